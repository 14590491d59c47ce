package kube

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// CassKop's kinds, read by `ringops import --from-cluster`.
var (
	// CassKopCassandraCluster is CassKop's CassandraCluster.
	CassKopCassandraCluster = schema.GroupVersionKind{Group: "db.orange.com", Version: "v2", Kind: "CassandraCluster"}
	// CassKopMultiCasskop is MultiCassKop's MultiCasskop.
	CassKopMultiCasskop = schema.GroupVersionKind{Group: "db.orange.com", Version: "v2", Kind: "MultiCasskop"}
)

// ListKind lists the objects of kind gvk in namespace ("" for every
// namespace) of context kctx, sorted by namespace and name. A kind the
// API server does not serve (its CRD is not installed) lists nothing.
func (m *Manager) ListKind(ctx context.Context, kctx string, gvk schema.GroupVersionKind, namespace string) ([]*unstructured.Unstructured, error) {
	ri, err := m.served(kctx, gvk, namespace)
	if ri == nil || err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	opts := metav1.ListOptions{Limit: 500}
	for {
		lctx, cancel := m.call(ctx)
		list, err := ri.List(lctx, opts)
		cancel()
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("context %s: list %s: %w", kctx, gvk.Kind, classify(err))
		}
		for i := range list.Items {
			out = append(out, &list.Items[i])
		}
		if opts.Continue = list.GetContinue(); opts.Continue == "" {
			break
		}
	}
	slices.SortFunc(out, func(a, b *unstructured.Unstructured) int {
		if c := strings.Compare(a.GetNamespace(), b.GetNamespace()); c != 0 {
			return c
		}
		return strings.Compare(a.GetName(), b.GetName())
	})
	return out, nil
}

// GetObject reads one object of kind gvk in context kctx; nil when there
// is none (or the kind is not served).
func (m *Manager) GetObject(ctx context.Context, kctx string, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	ri, err := m.served(kctx, gvk, namespace)
	if ri == nil || err != nil {
		return nil, err
	}
	u, err := m.get(ctx, ri, name)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("context %s: %s %s/%s: %w", kctx, gvk.Kind, namespace, name, classify(err))
	}
	return u, nil
}

// served is the client of kind gvk in namespace of context kctx; nil,
// and no error, when the API server does not serve the kind.
func (m *Manager) served(kctx string, gvk schema.GroupVersionKind, namespace string) (dynamic.ResourceInterface, error) {
	cc, err := m.context(kctx)
	if err != nil {
		return nil, err
	}
	ri, err := cc.resource(gvk, namespace)
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("context %s: %s: %w", kctx, gvk.Kind, err)
	}
	return ri, nil
}
