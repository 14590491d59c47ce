package reconciler

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/internal/tlstrust"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// ReadJolokiaCredentials reads the Jolokia credentials of a cluster from
// the Secret name (keys username and password) in namespace ns of
// context kctx. The error names the Secret, never its content.
func ReadJolokiaCredentials(ctx context.Context, clients *kube.Clients, kctx, ns, name string) (jolokia.Credentials, error) {
	return ReadCredentials(ctx, clients, kctx, ns, name)
}

// ReadCredentials reads a user and password from the Secret name (keys
// username and password) in namespace ns of context kctx: the Jolokia
// credentials (spec.jolokia.credentialsSecret), the CQL ones
// (spec.cql.credentialsSecret). The error names the Secret, never its
// content.
func ReadCredentials(ctx context.Context, clients *kube.Clients, kctx, ns, name string) (jolokia.Credentials, error) {
	c, _, err := readCredentials(ctx, clients, kctx, ns, name)
	return c, err
}

// readCredentials is ReadCredentials, with the previous credentials of a
// rotation when the Secret holds them (ring.PreviousCredentialsFromSecret).
func readCredentials(ctx context.Context, clients *kube.Clients, kctx, ns, name string) (jolokia.Credentials, *jolokia.Credentials, error) {
	cs, err := clients.Clientset(kctx)
	if err != nil {
		return jolokia.Credentials{}, nil, err
	}
	s, err := cs.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return jolokia.Credentials{}, nil, fmt.Errorf("context %s: secret %s/%s: %w", kctx, ns, name, err)
	}
	cr, err := jolokia.CredentialsFromSecret(s)
	if err != nil {
		return jolokia.Credentials{}, nil, fmt.Errorf("context %s: secret %s/%s: %w", kctx, ns, name, err)
	}
	if prev, ok := jolokia.PreviousCredentialsFromSecret(s); ok {
		return cr, &prev, nil
	}
	return cr, nil, nil
}

// SecretRouterOptions tune a SecretRouter.
type SecretRouterOptions struct {
	// Refresh is how long credentials read from a Secret (and a CA) are
	// used before they are read again (a password changed by hand is
	// picked up within about this long; ringops' own rotations at once,
	// Forget). Default 5m.
	Refresh time.Duration
	// Retry is the least time between two reads of a Secret that could
	// not be read (a region down may come back). Default 5s.
	Retry time.Duration
	// Timeout bounds each read. Default 5s.
	Timeout time.Duration
	// Credentials, when set, are sent to every agent instead of those of
	// the clusters' Secrets (ringops' --jolokia-credentials).
	Credentials *jolokia.Credentials
	// Warn receives why a Secret or a CA could not be read (never its
	// content); nil drops it. It may be called concurrently.
	Warn func(error)
}

// DefaultSecretRouterOptions: read again every 5 minutes, retry after 5
// seconds, 5 seconds per read.
func DefaultSecretRouterOptions() SecretRouterOptions {
	return SecretRouterOptions{Refresh: 5 * time.Minute, Retry: 5 * time.Second, Timeout: 5 * time.Second}
}

// SecretRouter reaches the agents directly (pod IP), as each cluster's
// spec says (SetCluster): with the credentials of its Secret
// (render.JolokiaCredentials: the one spec.jolokia.credentialsSecret
// names, else the one ringops keeps) as read in the node's own region,
// through that region's client; over HTTPS with spec.jolokia.tls, trusting
// the CA read in that region. A node that refuses the credentials is asked
// once more with the previous ones: those the Secret keeps during a
// rotation, else those read from it before (a Secret changed by hand).
// Clusters it was not told about are reached in plain HTTP without
// credentials. Its cache of Secrets serves any other credentials read per
// region too (Credentials: the CQL ones). It is safe for concurrent use.
type SecretRouter struct {
	direct  *jolokia.Direct
	clients *kube.Clients
	opts    SecretRouterOptions

	// mu guards the maps, never held across a read: a read in flight is
	// in reading, whose channel closes when it ends.
	mu       sync.Mutex
	clusters map[string]agentAccess // by cluster name
	entries  map[secretKey]*secretEntry
	reading  map[secretKey]chan struct{}
	tls      map[tlsKey]*tlsEntry
}

// agentAccess is how a cluster's agents are reached.
type agentAccess struct {
	secret string              // the credentials Secret, "" for none
	tls    *schemas.JolokiaTLS // nil: plain HTTP
}

type secretKey struct{ context, namespace, name string }

type secretEntry struct {
	creds    jolokia.Credentials
	previous *jolokia.Credentials // the Secret's previous-* keys, else the credentials read before creds
	ok       bool
	err      error // why the last read failed, while !ok
	readAt   time.Time
}

type tlsKey struct{ context, namespace, cluster string }

type tlsEntry struct {
	spec   schemas.JolokiaTLS // what the client was made for
	client *http.Client
	err    error
	readAt time.Time
}

var _ jolokia.Router = (*SecretRouter)(nil)

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
	return &SecretRouter{direct: jolokia.NewDirect(jolokia.DirectOptions{}), clients: clients, opts: opts,
		clusters: map[string]agentAccess{}, entries: map[secretKey]*secretEntry{}, reading: map[secretKey]chan struct{}{},
		tls: map[tlsKey]*tlsEntry{}}
}

// SetCluster says how the agents of a defaulted cluster are reached, as
// its spec says: which Secret holds their credentials, and their TLS.
func (r *SecretRouter) SetCluster(c *schemas.CassandraCluster) {
	secret, _ := render.JolokiaCredentials(c)
	acc := agentAccess{secret: secret}
	if j := c.Spec.Jolokia; j != nil && j.TLS != nil {
		t := *j.TLS
		acc.tls = &t
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clusters[c.Metadata.Name] = acc
}

// Forget makes the next use of the Secret name in namespace ns of kube
// context kctx read it again (ringops has just created or rotated it).
func (r *SecretRouter) Forget(kctx, ns, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e := r.entries[secretKey{kctx, ns, name}]; e != nil {
		e.readAt = time.Time{}
	}
}

// Route is the direct route to n: HTTPS when its cluster's agents serve
// it (an error when their CA cannot be read: never plain HTTP instead),
// with its cluster's credentials when they could be read. The reads
// (Secret, CA) are done under ctx, and its error when ctx ends first.
func (r *SecretRouter) Route(ctx context.Context, n ring.Node) (jolokia.Route, error) {
	rt, err := r.direct.Route(ctx, n)
	if err != nil {
		return rt, err
	}
	r.mu.Lock()
	acc := r.clusters[n.Cluster]
	r.mu.Unlock()
	if acc.tls != nil {
		client, err := r.tlsClient(ctx, n, acc.tls)
		if err != nil {
			return jolokia.Route{}, err
		}
		rt.URL, rt.HTTP = jolokia.AgentURL("https", n), client
	}
	switch {
	case r.opts.Credentials != nil:
		c := *r.opts.Credentials
		rt.Credentials = &c
	case acc.secret != "":
		e, err := r.entry(ctx, n.Context, n.Namespace, acc.secret)
		if err == nil {
			c := e.creds
			rt.Credentials, rt.Fallback = &c, e.previous
		} else if ctx.Err() != nil {
			return jolokia.Route{}, fmt.Errorf("node %s: route: %w", n, err)
		}
	}
	return rt, nil
}

// Credentials returns the credentials of the Secret name (keys username
// and password) in namespace ns of kube context kctx, read through that
// region's client and cached: read again after Options.Refresh, and after
// Options.Retry when the read failed (the last good credentials are kept
// meanwhile). The error, which names the Secret and never its content, is
// also given to Options.Warn when a read fails.
func (r *SecretRouter) Credentials(ctx context.Context, kctx, ns, name string) (jolokia.Credentials, error) {
	e, err := r.entry(ctx, kctx, ns, name)
	return e.creds, err
}

// entry is Credentials, with the previous credentials. One read of a
// Secret is in flight at a time: the others wait for it (the nodes of a
// region wait for one read), or for their ctx. No lock is held while it
// reads, so a hung API server holds up only the routes that need its
// Secret, and only until their ctx ends.
func (r *SecretRouter) entry(ctx context.Context, kctx, ns, name string) (secretEntry, error) {
	key := secretKey{kctx, ns, name}
	for {
		r.mu.Lock()
		e, now := r.entries[key], time.Now()
		if e != nil && ((e.ok && now.Sub(e.readAt) < r.opts.Refresh) || (!e.ok && now.Sub(e.readAt) < r.opts.Retry)) {
			r.mu.Unlock()
			return *e, e.err
		}
		if wait := r.reading[key]; wait != nil {
			r.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return secretEntry{}, fmt.Errorf("context %s: secret %s/%s: %w", kctx, ns, name, ctx.Err())
			}
		}
		done := make(chan struct{})
		r.reading[key] = done
		r.mu.Unlock()
		got, err := r.read(ctx, key)
		if err != nil && ctx.Err() != nil {
			r.mu.Lock()
			delete(r.reading, key)
			close(done)
			r.mu.Unlock()
			return secretEntry{}, err // this caller gave up: the next one reads again
		}
		if err != nil {
			r.warn(err)
		}
		r.mu.Lock()
		delete(r.reading, key)
		close(done)
		kept, err := r.store(key, got, err)
		r.mu.Unlock()
		return kept, err
	}
}

// read reads the Secret of key, bounded by Options.Timeout.
func (r *SecretRouter) read(ctx context.Context, key secretKey) (secretEntry, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	c, prev, err := readCredentials(ctx, r.clients, key.context, key.namespace, key.name)
	return secretEntry{creds: c, previous: prev}, err
}

// store keeps what a read of the Secret of key gave (r.mu held): on a
// failure, the last good credentials until they can be read again; on a
// change by hand, the credentials before as the previous ones.
func (r *SecretRouter) store(key secretKey, got secretEntry, err error) (secretEntry, error) {
	e, now := r.entries[key], time.Now()
	if err != nil {
		if e != nil && e.ok { // keep the last good credentials until they can be read again
			e.readAt = now.Add(r.opts.Retry - r.opts.Refresh)
			return *e, nil
		}
		r.entries[key] = &secretEntry{err: err, readAt: now}
		return secretEntry{}, err
	}
	c, prev := got.creds, got.previous
	if prev == nil && e != nil && e.ok && e.creds != c {
		was := e.creds // changed by hand: the nodes not restarted yet still hold these
		prev = &was
	} else if prev == nil && e != nil && e.ok && e.creds == c {
		prev = e.previous
	}
	r.entries[key] = &secretEntry{creds: c, previous: prev, ok: true, readAt: now}
	return *r.entries[key], nil
}

// tlsClient is the HTTP client of n's agents with spec.jolokia.tls: it
// trusts the CA read in n's region, read again after Options.Refresh (the
// last good client is kept while it cannot be), after Options.Retry when
// it could not be read. The CA is read without holding the lock.
func (r *SecretRouter) tlsClient(ctx context.Context, n ring.Node, spec *schemas.JolokiaTLS) (*http.Client, error) {
	key := tlsKey{n.Context, n.Namespace, n.Cluster}
	now := time.Now()
	r.mu.Lock()
	e := r.tls[key]
	r.mu.Unlock()
	if e != nil && sameTLS(e.spec, *spec) {
		age := now.Sub(e.readAt)
		if (e.client != nil && age < r.opts.Refresh) || (e.client == nil && age < r.opts.Retry) {
			return e.client, e.err
		}
	}
	client, err := r.readTLSClient(ctx, n.Context, n.Namespace, spec)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil && ctx.Err() != nil {
		return nil, err // this caller gave up: the next one reads again
	}
	if err != nil {
		r.warn(err)
		if e != nil && e.client != nil && sameTLS(e.spec, *spec) {
			r.tls[key] = &tlsEntry{spec: e.spec, client: e.client, readAt: now.Add(r.opts.Retry - r.opts.Refresh)}
			return e.client, nil
		}
		r.tls[key] = &tlsEntry{spec: *spec, err: err, readAt: now}
		return nil, err
	}
	r.tls[key] = &tlsEntry{spec: *spec, client: client, readAt: now}
	return client, nil
}

func (r *SecretRouter) readTLSClient(ctx context.Context, kctx, ns string, spec *schemas.JolokiaTLS) (*http.Client, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	ca, err := readCA(ctx, r, kctx, ns, spec.CASecret, spec.CAConfigMap)
	if err != nil {
		return nil, fmt.Errorf("jolokia tls: %w", err)
	}
	cfg, err := tlstrust.Config(ca, spec.ServerName)
	if err != nil {
		return nil, fmt.Errorf("jolokia tls: context %s: %w", kctx, err)
	}
	return jolokia.NewDirectClient(cfg), nil
}

// sameTLS tells whether two TLS settings trust the same CA and name.
func sameTLS(a, b schemas.JolokiaTLS) bool {
	same := func(x, y *schemas.KeyRef) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return same(a.CASecret, b.CASecret) && same(a.CAConfigMap, b.CAConfigMap) && a.ServerName == b.ServerName
}

func (r *SecretRouter) warn(err error) {
	if r.opts.Warn != nil {
		r.opts.Warn(err)
	}
}
