package chart

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
)

// appliedForReal are the kinds applied for real; the rest is a server-side
// dry-run (validated and defaulted by the API server, admitted, not stored).
var appliedForReal = []string{"ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"}

// applier applies rendered objects to one API server with server-side apply.
type applier struct {
	dyn    dynamic.Interface
	mapper meta.RESTMapper
}

func newApplier(t *testing.T, cfg *rest.Config) *applier {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{dyn: dyn, mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))}
}

// apply applies objs in order; dryRun makes it a server-side dry-run.
func (a *applier) apply(ctx context.Context, u *unstructured.Unstructured, dryRun bool) error {
	gvk := u.GroupVersionKind()
	m, err := a.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("%s %s: %w", gvk.Kind, u.GetName(), err)
	}
	var ri dynamic.ResourceInterface = a.dyn.Resource(m.Resource)
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = a.dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	opts := metav1.ApplyOptions{FieldManager: "chart-test", Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	if _, err := ri.Apply(ctx, u.GetName(), u, opts); err != nil {
		return fmt.Errorf("%s %s/%s (dry-run %v): %w", gvk.Kind, u.GetNamespace(), u.GetName(), dryRun, err)
	}
	return nil
}

// applyRendered applies a render: ServiceAccounts first, RBAC for real,
// everything else as a server-side dry-run (the remote render's token Secret
// for real too when forReal lists "Secret").
func applyRendered(t *testing.T, a *applier, objs []*unstructured.Unstructured, forReal ...string) {
	t.Helper()
	real := append(slices.Clone(appliedForReal), forReal...)
	ordered := slices.Clone(objs)
	slices.SortStableFunc(ordered, func(x, y *unstructured.Unstructured) int {
		return btoi(x.GetKind() != "ServiceAccount") - btoi(y.GetKind() != "ServiceAccount")
	})
	for _, u := range ordered {
		if err := a.apply(t.Context(), u, !slices.Contains(real, u.GetKind())); err != nil {
			t.Error(err)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// createNamespaces creates namespaces (as the cluster admin).
func createNamespaces(t *testing.T, a *applier, names ...string) {
	t.Helper()
	for _, n := range names {
		ns := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": n}}}
		if err := a.apply(t.Context(), ns, false); err != nil {
			t.Fatal(err)
		}
	}
}

// createSecret creates an Opaque Secret (as the cluster admin).
func createSecret(t *testing.T, a *applier, namespace, name string, data map[string]string) {
	t.Helper()
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		StringData: data,
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(s)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.apply(t.Context(), &unstructured.Unstructured{Object: obj}, false); err != nil {
		t.Fatal(err)
	}
}

// installMonitoringCRDs installs stand-ins for the Prometheus Operator's
// ServiceMonitor and PrometheusRule CRDs (same group, version, kinds and
// scope; no schema), so that their dry-runs check what can be checked
// offline: that their apiVersion, kind and namespace address a namespaced
// resource.
func installMonitoringCRDs(t *testing.T, a *applier) {
	t.Helper()
	for _, kind := range []string{"ServiceMonitor", "PrometheusRule"} {
		plural := strings.ToLower(kind) + "s"
		crd := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "apiextensions.k8s.io/v1",
			"kind":       "CustomResourceDefinition",
			"metadata":   map[string]any{"name": plural + ".monitoring.coreos.com"},
			"spec": map[string]any{
				"group": "monitoring.coreos.com",
				"scope": "Namespaced",
				"names": map[string]any{"plural": plural, "singular": strings.ToLower(kind), "kind": kind, "listKind": kind + "List"},
				"versions": []any{map[string]any{
					"name": "v1", "served": true, "storage": true,
					"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
				}},
			},
		}}
		if err := a.apply(t.Context(), crd, false); err != nil {
			t.Fatal(err)
		}
		// Wait until the API server serves the resource, then forget discovery.
		gvr := a.dyn.Resource(schema.GroupVersionResource{Group: "monitoring.coreos.com", Version: "v1", Resource: plural}).Namespace("default")
		err := wait.PollUntilContextTimeout(t.Context(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := gvr.List(ctx, metav1.ListOptions{Limit: 1})
			return err == nil, ignoreNotFound(err)
		})
		if err != nil {
			t.Fatalf("%s CRD not served: %v", kind, err)
		}
	}
	a.mapper.(meta.ResettableRESTMapper).Reset()
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
