package kube

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
)

// FieldManager is the server-side apply field manager of ringops.
const FieldManager = "ringops"

// ManagerOptions tune a Manager.
type ManagerOptions struct {
	// FieldManager names ringops in managedFields. Default: "ringops".
	FieldManager string
	// RequestTimeout bounds each API request (a read, a dry-run, an
	// apply, a delete), so that one API server that hangs cannot stall
	// the others. Default: 15 seconds.
	RequestTimeout time.Duration
	// WaitTimeout bounds the wait for a StatefulSet deleted by Recreate to
	// be gone (the garbage collector orphans its pods first). Default: 2
	// minutes.
	WaitTimeout time.Duration
	// PollInterval is the period of that wait. Default: 200 ms.
	PollInterval time.Duration
	// Watch (the daemon) observes from watch-fed caches rather than
	// lists (cache.go): no LIST request once they have synced, and
	// Changes wakes a cluster on its objects' events. Close stops them.
	Watch bool
	// Logger, for the caches' watch errors; default slog.Default().
	Logger *slog.Logger
}

// DefaultManagerOptions returns the defaults.
func DefaultManagerOptions() ManagerOptions {
	return ManagerOptions{FieldManager: FieldManager, RequestTimeout: 15 * time.Second,
		WaitTimeout: 2 * time.Minute, PollInterval: 200 * time.Millisecond}
}

func (o ManagerOptions) withDefaults() ManagerOptions {
	d := DefaultManagerOptions()
	if o.FieldManager == "" {
		o.FieldManager = d.FieldManager
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = d.RequestTimeout
	}
	if o.WaitTimeout <= 0 {
		o.WaitTimeout = d.WaitTimeout
	}
	if o.PollInterval <= 0 {
		o.PollInterval = d.PollInterval
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Manager does ringops' Kubernetes operations in every context: apply,
// observe, recreate, prune and the guarded deletes. It is safe for
// concurrent use.
type Manager struct {
	opts     ManagerOptions
	contexts map[string]*contextClient
	names    []string
	caches   *caches // with ManagerOptions.Watch
}

// contextClient is one context's typed and dynamic clients, and its REST
// mapper (discovery, cached in memory, refreshed when a kind is unknown).
type contextClient struct {
	name   string
	typed  kubernetes.Interface
	dyn    dynamic.Interface
	mapper *restmapper.DeferredDiscoveryRESTMapper
}

// NewManager builds a Manager on ready clients: it makes a dynamic client
// and a discovery-backed REST mapper from each context's configuration
// (nothing is dialled until the first operation).
func NewManager(clients *Clients, opts ManagerOptions) (*Manager, error) {
	m := &Manager{opts: opts.withDefaults(), contexts: map[string]*contextClient{}, names: clients.Contexts()}
	if m.opts.Watch {
		m.caches = newCaches(m.opts.Logger, m.opts.RequestTimeout)
	}
	for _, name := range m.names {
		cc, err := newContextClient(clients, name, m.caches)
		if err != nil {
			return nil, err
		}
		m.contexts[name] = cc
	}
	return m, nil
}

func newContextClient(clients *Clients, name string, caches *caches) (*contextClient, error) {
	cfg, err := clients.Config(name)
	if err != nil {
		return nil, err
	}
	typed, err := clients.Clientset(name)
	if err != nil {
		return nil, err
	}
	if caches != nil { // the Manager's own clients tell the caches what they wrote
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
			return &trackWrites{next: rt, context: name, caches: caches}
		})
		if typed, err = kubernetes.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("context %s: %w", name, err)
		}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("context %s: dynamic client: %w", name, err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("context %s: discovery client: %w", name, err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc))
	return &contextClient{name: name, typed: typed, dyn: dyn, mapper: mapper}, nil
}

// Close stops the caches' watches (ManagerOptions.Watch); the Manager
// then observes by listing.
func (m *Manager) Close() {
	if m.caches != nil {
		m.caches.close()
	}
}

// Changes returns a channel that receives (without blocking: one pending
// at most) when an object of cluster in namespace is added, changed or
// deleted in any context, with ManagerOptions.Watch; nil without (a nil
// channel never receives).
func (m *Manager) Changes(namespace, cluster string) <-chan struct{} {
	if m.caches == nil {
		return nil
	}
	return m.caches.changes(namespace, cluster)
}

// Contexts lists the Manager's contexts, sorted.
func (m *Manager) Contexts() []string { return append([]string(nil), m.names...) }

func (m *Manager) context(name string) (*contextClient, error) {
	cc, ok := m.contexts[name]
	if !ok {
		return nil, fmt.Errorf("context %s: %w", name, ErrUnknownContext)
	}
	return cc, nil
}

// call bounds one API request by RequestTimeout.
func (m *Manager) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, m.opts.RequestTimeout)
}

// resource returns the dynamic client of u's kind, in u's namespace when
// the kind is namespaced. An unknown kind refreshes discovery once (a CRD
// may have been installed since).
func (cc *contextClient) resource(gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, error) {
	mapping, err := cc.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		cc.mapper.Reset()
		mapping, err = cc.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return nil, err
	}
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		return cc.dyn.Resource(mapping.Resource).Namespace(namespace), nil
	}
	return cc.dyn.Resource(mapping.Resource), nil
}

// gvr resolves a kind to its resource, without discovery for
// ObservedKinds, and says whether it is namespaced.
func (cc *contextClient) gvr(gvk schema.GroupVersionKind) (schema.GroupVersionResource, bool, error) {
	if gvr, ok := observedResources[gvk]; ok {
		return gvr, true, nil
	}
	mapping, err := cc.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if meta.IsNoMatchError(err) {
		cc.mapper.Reset()
		mapping, err = cc.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	}
	if err != nil {
		return schema.GroupVersionResource{}, false, err
	}
	return mapping.Resource, mapping.Scope.Name() == meta.RESTScopeNameNamespace, nil
}

// mayWatchEverywhere asks the API server whether ringops may list and
// watch gvr in every namespace (false when it may not, or cannot tell),
// each question bounded by timeout.
func (cc *contextClient) mayWatchEverywhere(ctx context.Context, gvr schema.GroupVersionResource, timeout time.Duration, log *slog.Logger) bool {
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gvr.Group, Resource: gvr.Resource}}}
		rctx, cancel := context.WithTimeout(ctx, timeout)
		out, err := cc.typed.AuthorizationV1().SelfSubjectAccessReviews().Create(rctx, review, metav1.CreateOptions{})
		cancel()
		if err != nil {
			log.Debug("cannot tell whether ringops may watch every namespace: one cache per namespace", "context", cc.name, "resource", gvr.Resource, "err", err)
			return false
		}
		if !out.Status.Allowed {
			return false
		}
	}
	return true
}

func (cc *contextClient) resourceOf(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	return cc.resource(u.GroupVersionKind(), u.GetNamespace())
}
