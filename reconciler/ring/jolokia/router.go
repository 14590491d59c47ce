package jolokia

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/ring"
)

// Route is where and how to reach one node's Jolokia agent.
type Route struct {
	// URL is the agent's base URL, ending in "/jolokia/"; requests are POSTed to it.
	URL string
	// HTTP carries the request (direct, or through an API server).
	HTTP *http.Client
	// Credentials, when set, are sent as HTTP basic auth.
	Credentials *Credentials
	// Fallback, when set, are sent once when the agent refuses Credentials
	// (401): the credentials before a rotation, which the nodes not yet
	// restarted still hold.
	Fallback *Credentials
}

// Router finds the Route to a node's agent. Direct and PodProxy are the two
// ways; tests route to httptest servers. A router that reads something to
// route (a Secret, a CA) does it under ctx, and holds no lock while it
// reads.
type Router interface {
	Route(ctx context.Context, n ring.Node) (Route, error)
}

var (
	_ Router = (*Direct)(nil)
	_ Router = (*PodProxy)(nil)
)

// DefaultJolokiaPort is the agent's default port.
const DefaultJolokiaPort = 8778

// Direct reaches agents at http://<pod IP>:<port>/jolokia/: ringops runs
// where pod IPs are routable (in a cluster, or a flat multi-region network).
type Direct struct {
	http  *http.Client
	creds map[string]Credentials
}

// DirectOptions configure a Direct router.
type DirectOptions struct {
	// Credentials per kube context; the entry "" applies to every context
	// without its own. Empty: no authentication.
	Credentials map[string]Credentials
	// Transport carries the requests; nil: a transport that ignores the
	// HTTP_PROXY environment, keeps connections alive per node and dials
	// with a 5 s timeout (the call's own timeout still applies).
	Transport http.RoundTripper
}

// NewDirect returns a Direct router.
func NewDirect(opts DirectOptions) *Direct {
	rt := opts.Transport
	if rt == nil {
		rt = newDirectTransport()
	}
	return &Direct{http: &http.Client{Transport: rt, CheckRedirect: refuseRedirect}, creds: opts.Credentials}
}

// NewDirectClient is the HTTP client of direct routes to agents that serve
// HTTPS with tlsConfig (nil: plain HTTP): Direct's transport, no redirects.
func NewDirectClient(tlsConfig *tls.Config) *http.Client {
	t := newDirectTransport()
	t.TLSClientConfig = tlsConfig
	return &http.Client{Transport: t, CheckRedirect: refuseRedirect}
}

// AgentURL is the URL of n's agent at its pod IP: scheme://IP:port/jolokia/.
func AgentURL(scheme string, n ring.Node) string {
	return scheme + "://" + net.JoinHostPort(n.IP, strconv.Itoa(int(port(n)))) + "/jolokia/"
}

// refuseRedirect keeps a Jolokia client from following redirects: an agent
// never redirects, and a redirect could carry the request (and its
// credentials) to another host. The redirect comes back as an HTTP error.
func refuseRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func newDirectTransport() *http.Transport {
	return &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 2,
		// A rollout that waits reads its nodes every few hundred
		// milliseconds and keeps their connections; a converged cluster,
		// read once per resync interval, keeps none (each costs two
		// goroutines and their buffers) in between.
		IdleConnTimeout:    10 * time.Second,
		DisableCompression: true,
	}
}

// Route returns http://IP:port/jolokia/ with the context's credentials.
func (d *Direct) Route(_ context.Context, n ring.Node) (Route, error) {
	if n.IP == "" {
		return Route{}, ring.ErrNoAddress
	}
	r := Route{URL: AgentURL("http", n), HTTP: d.http}
	if c, ok := d.creds[n.Context]; ok {
		r.Credentials = &c
	} else if c, ok := d.creds[""]; ok {
		r.Credentials = &c
	}
	return r, nil
}

// PodProxy reaches agents through each region's API server:
// <server>/api/v1/namespaces/<ns>/pods/<pod>:<port>/proxy/jolokia/. It works
// wherever the API servers are reachable, needs RBAC "create pods/proxy",
// and costs one more hop. The API server proxies only to global unicast pod
// IPs (not loopback) and removes the Authorization header once it has
// authenticated ringops, so Jolokia basic auth cannot pass this way: use
// Direct for agents that require credentials.
type PodProxy struct {
	regions map[string]proxyRegion
}

type proxyRegion struct {
	base string // server URL with its path prefix, no trailing slash
	http *http.Client
}

// ErrUnknownContext: a node's kube context has no client configuration.
var ErrUnknownContext = errors.New("no client configuration for this kube context")

// NewPodProxy builds one HTTP client per kube context from its REST config.
func NewPodProxy(configs map[string]*rest.Config) (*PodProxy, error) {
	p := &PodProxy{regions: make(map[string]proxyRegion, len(configs))}
	for ctxName, cfg := range configs {
		hc, err := rest.HTTPClientFor(cfg)
		if err != nil {
			return nil, fmt.Errorf("context %s: pod proxy client: %w", ctxName, err)
		}
		u, _, err := rest.DefaultServerUrlFor(cfg)
		if err != nil {
			return nil, fmt.Errorf("context %s: pod proxy: %w", ctxName, err)
		}
		hc.CheckRedirect = refuseRedirect
		p.regions[ctxName] = proxyRegion{base: strings.TrimSuffix(u.String(), "/"), http: hc}
	}
	return p, nil
}

// Route returns the pod proxy URL of the node's agent in its context.
func (p *PodProxy) Route(_ context.Context, n ring.Node) (Route, error) {
	reg, ok := p.regions[n.Context]
	if !ok {
		return Route{}, fmt.Errorf("context %q: %w", n.Context, ErrUnknownContext)
	}
	if n.IP == "" {
		return Route{}, ring.ErrNoAddress
	}
	path := fmt.Sprintf("/api/v1/namespaces/%s/pods/%s:%d/proxy/jolokia/",
		url.PathEscape(n.Namespace), url.PathEscape(n.Pod), port(n))
	return Route{URL: reg.base + path, HTTP: reg.http}, nil
}

func port(n ring.Node) int32 {
	if n.Port > 0 {
		return n.Port
	}
	return DefaultJolokiaPort
}
