package reconciler

import (
	"context"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring"
)

// ReadJolokiaCredentials reads the Jolokia credentials of a cluster from
// the Secret name (keys username and password) in namespace ns of
// context kctx. The error names the Secret, never its content.
func ReadJolokiaCredentials(ctx context.Context, clients *kube.Clients, kctx, ns, name string) (ring.Credentials, error) {
	return ReadCredentials(ctx, clients, kctx, ns, name)
}

// ReadCredentials reads a user and password from the Secret name (keys
// username and password) in namespace ns of context kctx: the Jolokia
// credentials (spec.jolokia.credentialsSecret), the CQL ones
// (spec.cql.credentialsSecret). The error names the Secret, never its
// content.
func ReadCredentials(ctx context.Context, clients *kube.Clients, kctx, ns, name string) (ring.Credentials, error) {
	cs, err := clients.Clientset(kctx)
	if err != nil {
		return ring.Credentials{}, err
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return ring.Credentials{}, fmt.Errorf("context %s: secret %s/%s: %w", kctx, ns, name, err)
	}
	cr, err := ring.CredentialsFromSecret(s)
	if err != nil {
		return ring.Credentials{}, fmt.Errorf("context %s: secret %s/%s: %w", kctx, ns, name, err)
	}
	return cr, nil
}

// SecretRouterOptions tune a SecretRouter.
type SecretRouterOptions struct {
	// Refresh is how long credentials read from a Secret are used before
	// the Secret is read again (a rotated password is picked up within
	// about this long). Default 5m.
	Refresh time.Duration
	// Retry is the least time between two reads of a Secret that could
	// not be read (a region down may come back). Default 5s.
	Retry time.Duration
	// Timeout bounds each read. Default 5s.
	Timeout time.Duration
	// Warn receives why a Secret could not be read (never its content);
	// nil drops it.
	Warn func(error)
}

// DefaultSecretRouterOptions: read again every 5 minutes, retry after 5
// seconds, 5 seconds per read.
func DefaultSecretRouterOptions() SecretRouterOptions {
	return SecretRouterOptions{Refresh: 5 * time.Minute, Retry: 5 * time.Second, Timeout: 5 * time.Second}
}

// SecretRouter reaches the agents directly (pod IP), with the credentials
// of each cluster's spec.jolokia.credentialsSecret as read in the node's
// own region, through that region's client. Clusters without a Secret
// are reached without credentials. Its cache of Secrets serves any other
// credentials read per region too (Credentials: the CQL ones). It is safe
// for concurrent use.
type SecretRouter struct {
	direct  *ring.Direct
	clients *kube.Clients
	opts    SecretRouterOptions

	mu      sync.Mutex
	secrets map[string]string // cluster -> Secret name
	entries map[secretKey]*secretEntry
}

type secretKey struct{ context, namespace, name string }

type secretEntry struct {
	creds  ring.Credentials
	ok     bool
	err    error // why the last read failed, while !ok
	readAt time.Time
}

var _ ring.Router = (*SecretRouter)(nil)

// NewSecretRouter returns a router reading Secrets through clients.
func NewSecretRouter(clients *kube.Clients, opts SecretRouterOptions) *SecretRouter {
	d := DefaultSecretRouterOptions()
	if opts.Refresh <= 0 {
		opts.Refresh = d.Refresh
	}
	if opts.Retry <= 0 {
		opts.Retry = d.Retry
	}
	if opts.Timeout <= 0 {
		opts.Timeout = d.Timeout
	}
	return &SecretRouter{direct: ring.NewDirect(ring.DirectOptions{}), clients: clients, opts: opts,
		secrets: map[string]string{}, entries: map[secretKey]*secretEntry{}}
}

// SetSecret says which Secret holds the credentials of cluster ("" for
// none), as its spec names it.
func (r *SecretRouter) SetSecret(cluster, secret string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if secret == "" {
		delete(r.secrets, cluster)
		return
	}
	r.secrets[cluster] = secret
}

// Route is the direct route to n, with its cluster's credentials when
// they could be read.
func (r *SecretRouter) Route(n ring.Node) (ring.Route, error) {
	rt, err := r.direct.Route(n)
	if err != nil {
		return rt, err
	}
	if c, ok := r.credentials(n); ok {
		rt.Credentials = &c
	}
	return rt, nil
}

func (r *SecretRouter) credentials(n ring.Node) (ring.Credentials, bool) {
	r.mu.Lock()
	name, ok := r.secrets[n.Cluster]
	r.mu.Unlock()
	if !ok {
		return ring.Credentials{}, false
	}
	c, err := r.Credentials(n.Context, n.Namespace, name)
	return c, err == nil
}

// Credentials returns the credentials of the Secret name (keys username
// and password) in namespace ns of kube context kctx, read through that
// region's client and cached: read again after Options.Refresh, and after
// Options.Retry when the read failed (the last good credentials are kept
// meanwhile). The error, which names the Secret and never its content, is
// also given to Options.Warn when a read fails.
func (r *SecretRouter) Credentials(kctx, ns, name string) (ring.Credentials, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	key := secretKey{kctx, ns, name}
	e := r.entries[key]
	now := time.Now()
	if e != nil && ((e.ok && now.Sub(e.readAt) < r.opts.Refresh) || (!e.ok && now.Sub(e.readAt) < r.opts.Retry)) {
		return e.creds, e.err
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.Timeout)
	defer cancel()
	c, err := ReadCredentials(ctx, r.clients, kctx, ns, name)
	if err != nil {
		if r.opts.Warn != nil {
			r.opts.Warn(err)
		}
		if e != nil && e.ok { // keep the last good credentials until they can be read again
			e.readAt = now.Add(r.opts.Retry - r.opts.Refresh)
			return e.creds, nil
		}
		r.entries[key] = &secretEntry{err: err, readAt: now}
		return ring.Credentials{}, err
	}
	r.entries[key] = &secretEntry{creds: c, ok: true, readAt: now}
	return c, nil
}
