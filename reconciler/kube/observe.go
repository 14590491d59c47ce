package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/internal/contract"
)

// Observation is what was read of one cluster in one context: either Err
// is set, or the lists are what the API server returned (maybe empty). Its
// fields are those of plan.Context, so that (*plan.Context)(obs) converts
// it: kube does not import the planner.
type Observation struct {
	// Err is why the context could not be read; the lists are then nil.
	Err error
	// Objects are the live objects labelled for the cluster, with status,
	// sorted by kind (apply order), namespace and name.
	Objects []*unstructured.Unstructured
	// Pods are the cluster's pods, sorted by name.
	Pods []corev1.Pod
	// PVCs are the cluster's PersistentVolumeClaims, sorted by name.
	PVCs []corev1.PersistentVolumeClaim
	// With Query.Adopt (#20), what CassKop made for the cluster and ringops
	// has not taken over yet (CassKopSelector): Foreign its StatefulSets,
	// Services and PodDisruptionBudgets, sorted as Objects, ForeignPods
	// its pods; Operators the CassKop or Multi-CassKop operators that run
	// in the namespace (CassKopOperators).
	Foreign     []*unstructured.Unstructured
	ForeignPods []corev1.Pod
	Operators   []string
}

// Query says what Observe reads.
type Query struct {
	// Cluster is the Cassandra cluster's name (label ringops.dev/cluster).
	Cluster string
	// Namespace is the cluster's namespace in every context.
	Namespace string
	// Contexts are the contexts to read; default: every context of the
	// Manager.
	Contexts []string
	// Kinds are read besides ObservedKinds: kinds a region Component adds,
	// so that they can be pruned too.
	Kinds []schema.GroupVersionKind
	// Adopt (spec.adopt) reads what CassKop made for the cluster too:
	// Observation.Foreign, ForeignPods and Operators.
	Adopt bool
}

// ObservedKinds are the kinds every Observe lists: what render produces
// (the NetworkPolicy of the agent port too, so that one is pruned when a
// spec turns it off).
var ObservedKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "Service"},
	{Group: "policy", Version: "v1", Kind: "PodDisruptionBudget"},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
}

// observedResources resolve ObservedKinds without discovery.
var observedResources = map[schema.GroupVersionKind]schema.GroupVersionResource{
	ObservedKinds[0]: {Version: "v1", Resource: "configmaps"},
	ObservedKinds[1]: {Version: "v1", Resource: "services"},
	ObservedKinds[2]: {Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	ObservedKinds[3]: {Group: "apps", Version: "v1", Resource: "statefulsets"},
	ObservedKinds[4]: {Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
}

// ObjectSelector selects the objects ringops renders for a cluster: those
// labelled managed-by ringops and with the cluster's label, but not the
// Secrets it keeps itself (contract.LabelCredentials), which no revision
// renders and no prune may delete.
func ObjectSelector(cluster string) labels.Selector {
	s := labels.SelectorFromSet(labels.Set{contract.LabelManagedBy: contract.ManagedBy, contract.LabelCluster: cluster})
	kept, err := labels.NewRequirement(contract.LabelCredentials, selection.DoesNotExist, nil)
	if err != nil { // a constant, valid key
		panic(err)
	}
	return s.Add(*kept)
}

// Observe reads a cluster in every context of q at once: the objects of
// ObservedKinds and q.Kinds labelled app.kubernetes.io/managed-by=ringops
// and ringops.dev/cluster=<cluster>, and the pods and PVCs labelled
// ringops.dev/cluster=<cluster>, all in q.Namespace. Each request is
// bounded by ManagerOptions.RequestTimeout. A context that cannot be read
// has only Err set (its first failure); the others are still read. The
// result has one entry per context of q.
func (m *Manager) Observe(ctx context.Context, q Query) map[string]*Observation {
	contexts := q.Contexts
	if len(contexts) == 0 {
		contexts = m.names
	}
	var (
		mu  sync.Mutex
		wg  sync.WaitGroup
		out = make(map[string]*Observation, len(contexts))
	)
	for _, name := range contexts {
		wg.Go(func() {
			obs := m.observe(ctx, name, q)
			mu.Lock()
			defer mu.Unlock()
			out[name] = obs
		})
	}
	wg.Wait()
	return out
}

func (m *Manager) observe(ctx context.Context, kctx string, q Query) *Observation {
	cc, err := m.context(kctx)
	if err != nil {
		return &Observation{Err: err}
	}
	var obs *Observation
	if m.caches != nil {
		var why string
		obs, why, err = m.caches.read(ctx, cc, q, cacheCatchUp)
		if err != nil {
			return &Observation{Err: err}
		}
		if obs == nil {
			m.opts.Logger.Debug("observed by listing: a cache cannot be read", "cluster", q.Cluster, "why", why)
		}
	}
	if obs == nil {
		objs, err := m.listObjects(ctx, cc, q)
		if err != nil {
			return &Observation{Err: err}
		}
		pods, pvcs, err := m.listPodsAndClaims(ctx, cc, q)
		if err != nil {
			return &Observation{Err: err}
		}
		obs = &Observation{Objects: objs, Pods: pods, PVCs: pvcs}
	}
	if q.Adopt {
		if err := m.observeCassKop(ctx, cc, q, obs); err != nil {
			return &Observation{Err: err}
		}
	}
	return obs
}

func (m *Manager) listObjects(ctx context.Context, cc *contextClient, q Query) ([]*unstructured.Unstructured, error) {
	return m.listLabelled(ctx, cc, kindsOf(q), q.Namespace, ObjectSelector(q.Cluster).String(), "")
}

// listLabelled lists the objects of kinds in namespace that selector
// selects, without their managed fields, sorted (sortObjects). whose
// says whose they are in errors ("CassKop's ").
func (m *Manager) listLabelled(ctx context.Context, cc *contextClient, kinds []schema.GroupVersionKind, namespace, selector, whose string) ([]*unstructured.Unstructured, error) {
	var objs []*unstructured.Unstructured
	for _, gvk := range kinds {
		ri, err := cc.namespaced(gvk, namespace)
		if err != nil {
			return nil, fmt.Errorf("context %s: list %s%s: %w", cc.name, whose, gvk.Kind, err)
		}
		rctx, cancel := m.call(ctx)
		list, err := ri.List(rctx, metav1.ListOptions{LabelSelector: selector})
		cancel()
		if err != nil {
			return nil, fmt.Errorf("context %s: list %s%s in %s: %w", cc.name, whose, gvk.Kind, namespace, err)
		}
		for i := range list.Items {
			u := &list.Items[i]
			u.SetGroupVersionKind(gvk)
			u.SetManagedFields(nil) // nobody reads them, and they are most of an object's bytes
			objs = append(objs, u)
		}
	}
	sortObjects(objs)
	return objs, nil
}

// kindsOf is ObservedKinds then q.Kinds, without duplicates.
func kindsOf(q Query) []schema.GroupVersionKind {
	kinds := slices.Clone(ObservedKinds)
	for _, k := range q.Kinds {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	return kinds
}

// namespaced returns the dynamic client of a kind, without discovery for
// ObservedKinds.
func (cc *contextClient) namespaced(gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, error) {
	if gvr, ok := observedResources[gvk]; ok {
		return cc.dyn.Resource(gvr).Namespace(namespace), nil
	}
	return cc.resource(gvk, namespace)
}

func (m *Manager) listPodsAndClaims(ctx context.Context, cc *contextClient, q Query) ([]corev1.Pod, []corev1.PersistentVolumeClaim, error) {
	opts := metav1.ListOptions{LabelSelector: ClusterSelector(q.Cluster).String()}
	rctx, cancel := m.call(ctx)
	defer cancel()
	pods, err := cc.typed.CoreV1().Pods(q.Namespace).List(rctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("context %s: list pods in %s: %w", cc.name, q.Namespace, err)
	}
	rctx, cancel = m.call(ctx)
	defer cancel()
	pvcs, err := cc.typed.CoreV1().PersistentVolumeClaims(q.Namespace).List(rctx, opts)
	if err != nil {
		return nil, nil, fmt.Errorf("context %s: list persistentvolumeclaims in %s: %w", cc.name, q.Namespace, err)
	}
	for i := range pods.Items {
		pods.Items[i].ManagedFields = nil
	}
	for i := range pvcs.Items {
		pvcs.Items[i].ManagedFields = nil
	}
	sortPodsAndClaims(pods.Items, pvcs.Items)
	return pods.Items, pvcs.Items, nil
}

// sortPodsAndClaims sorts pods and claims by name, as an Observation
// holds them.
func sortPodsAndClaims(pods []corev1.Pod, claims []corev1.PersistentVolumeClaim) {
	slices.SortFunc(pods, func(a, b corev1.Pod) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(claims, func(a, b corev1.PersistentVolumeClaim) int { return strings.Compare(a.Name, b.Name) })
}

// sortObjects sorts by kind rank, kind, namespace and name.
func sortObjects(objs []*unstructured.Unstructured) {
	slices.SortFunc(objs, func(a, b *unstructured.Unstructured) int {
		if d := kindRank(a.GetKind()) - kindRank(b.GetKind()); d != 0 {
			return d
		}
		return strings.Compare(a.GetKind()+"/"+a.GetNamespace()+"/"+a.GetName(), b.GetKind()+"/"+b.GetNamespace()+"/"+b.GetName())
	})
}
