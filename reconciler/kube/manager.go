package kube

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
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
	return o
}

// Manager does ringops' Kubernetes operations in every context: apply,
// observe, recreate, prune and the guarded deletes. It is safe for
// concurrent use.
type Manager struct {
	opts     ManagerOptions
	contexts map[string]*contextClient
	names    []string
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
	for _, name := range m.names {
		cc, err := newContextClient(clients, name)
		if err != nil {
			return nil, err
		}
		m.contexts[name] = cc
	}
	return m, nil
}

func newContextClient(clients *Clients, name string) (*contextClient, error) {
	cfg, err := clients.Config(name)
	if err != nil {
		return nil, err
	}
	typed, err := clients.Clientset(name)
	if err != nil {
		return nil, err
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

func (cc *contextClient) resourceOf(u *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	return cc.resource(u.GroupVersionKind(), u.GetNamespace())
}
