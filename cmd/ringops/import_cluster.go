package main

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/importer/casskop"
	"github.com/ringops/ringops/reconciler/kube"
)

var (
	configMapKind  = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	deploymentKind = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
)

// readFromCluster reads CassKop's objects through the kubeconfig: the
// CassandraClusters and MultiCasskops of the context f.context (default:
// the current context), the CassandraClusters of every context a
// MultiCasskop's override names, and the ConfigMaps they all reference.
// It returns them as import inputs, and the context read first.
func readFromCluster(ctx context.Context, f importFlags) ([]casskop.Input, string, error) {
	opts := kube.DefaultOptions()
	opts.Kubeconfig = f.kubeconfig
	known, current, err := kube.KubeconfigContexts(opts)
	if err != nil {
		return nil, "", err
	}
	start := f.context
	if start == "" {
		start = current
	}
	if start == "" {
		return nil, "", &usageError{fmt.Errorf("--from-cluster: the kubeconfig has no current context: give --context")}
	}
	r := &clusterReader{opts: opts, known: known, managers: map[string]*kube.Manager{}, ns: f.namespace}
	if err := r.read(ctx, start, kube.CassKopMultiCasskop, kube.CassKopCassandraCluster); err != nil {
		return nil, "", err
	}
	for _, mc := range r.multis {
		overrides, _, _ := unstructured.NestedMap(mc.obj.Object, "spec", "override")
		ns := mc.obj.GetNamespace()
		for _, kctx := range slices.Sorted(maps.Keys(overrides)) {
			if !slices.Contains(known, kctx) {
				return nil, "", invalid(fmt.Errorf("%s: MultiCasskop %s/%s: spec.override.%s: no such context in the kubeconfig; add it (named as the override) so that its CassandraCluster and ConfigMaps are read, or import from files (-f)",
					mc.kctx, ns, mc.obj.GetName(), kctx))
			}
			if kctx == start {
				continue
			}
			saved := r.ns
			r.ns = ns
			err := r.read(ctx, kctx, kube.CassKopCassandraCluster)
			r.ns = saved
			if err != nil {
				return nil, "", err
			}
		}
	}
	if err := r.readConfigMaps(ctx); err != nil {
		return nil, "", err
	}
	if err := r.readOperators(ctx); err != nil {
		return nil, "", err
	}
	if len(r.inputs) == 0 {
		return nil, "", invalid(fmt.Errorf("context %s: no CassandraCluster nor MultiCasskop (db.orange.com/v2) %s", start, r.where()))
	}
	return r.inputs, start, nil
}

type readObject struct {
	kctx string
	obj  *unstructured.Unstructured
}

type clusterReader struct {
	opts     kube.Options
	known    []string
	managers map[string]*kube.Manager
	ns       string
	inputs   []casskop.Input
	multis   []readObject
	clusters []readObject
}

func (r *clusterReader) where() string {
	if r.ns == "" {
		return "in any namespace"
	}
	return "in namespace " + r.ns
}

func (r *clusterReader) manager(kctx string) (*kube.Manager, error) {
	if m, ok := r.managers[kctx]; ok {
		return m, nil
	}
	clients, err := kube.NewClients([]string{kctx}, r.opts)
	if err != nil {
		return nil, err
	}
	m, err := kube.NewManager(clients, kube.DefaultManagerOptions())
	if err != nil {
		return nil, err
	}
	r.managers[kctx] = m
	return m, nil
}

// read lists the objects of kinds in kctx.
func (r *clusterReader) read(ctx context.Context, kctx string, kinds ...schema.GroupVersionKind) error {
	m, err := r.manager(kctx)
	if err != nil {
		return err
	}
	for _, gvk := range kinds {
		objs, err := m.ListKind(ctx, kctx, gvk, r.ns)
		if err != nil {
			return err
		}
		for _, o := range objs {
			if err := r.add(kctx, o, gvk == kube.CassKopCassandraCluster); err != nil {
				return err
			}
			if gvk == kube.CassKopMultiCasskop {
				r.multis = append(r.multis, readObject{kctx, o})
			} else {
				r.clusters = append(r.clusters, readObject{kctx, o})
			}
		}
	}
	return nil
}

// add makes an input of o, without what the server keeps for itself.
func (r *clusterReader) add(kctx string, o *unstructured.Unstructured, placed bool) error {
	o = o.DeepCopy()
	unstructured.RemoveNestedField(o.Object, "metadata", "managedFields")
	b, err := yaml.Marshal(o.Object)
	if err != nil {
		return fmt.Errorf("context %s: %s %s/%s: %w", kctx, o.GetKind(), o.GetNamespace(), o.GetName(), err)
	}
	in := casskop.Input{Name: fmt.Sprintf("%s: %s %s/%s", kctx, o.GetKind(), o.GetNamespace(), o.GetName()), Data: b}
	if placed {
		in.Context = kctx
	}
	if o.GetKind() == kube.CassKopMultiCasskop.Kind {
		in.Local = kctx
	}
	r.inputs = append(r.inputs, in)
	return nil
}

// readOperators reads the Deployments of the namespaces read, in every
// context read, that run a CassKop or Multi-CassKop image: the import
// reports them (ringops must never act while one runs).
func (r *clusterReader) readOperators(ctx context.Context) error {
	namespaces := map[string]map[string]bool{} // context -> namespaces
	for _, o := range append(append([]readObject(nil), r.clusters...), r.multis...) {
		if namespaces[o.kctx] == nil {
			namespaces[o.kctx] = map[string]bool{}
		}
		namespaces[o.kctx][o.obj.GetNamespace()] = true
	}
	for _, kctx := range slices.Sorted(maps.Keys(namespaces)) {
		m, err := r.manager(kctx)
		if err != nil {
			return err
		}
		for _, ns := range slices.Sorted(maps.Keys(namespaces[kctx])) {
			deps, err := m.ListKind(ctx, kctx, deploymentKind, ns)
			if err != nil {
				return err
			}
			for _, d := range deps {
				if isOperator(d) {
					if err := r.add(kctx, d, true); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

func isOperator(d *unstructured.Unstructured) bool {
	containers, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok {
			if img, _ := m["image"].(string); strings.Contains(strings.ToLower(img), "casskop") {
				return true
			}
		}
	}
	return false
}

// readConfigMaps reads the ConfigMap (spec.configMapName) of every
// CassandraCluster read, and of every MultiCasskop's base and overrides
// in the contexts they name.
func (r *clusterReader) readConfigMaps(ctx context.Context) error {
	type ref struct{ kctx, ns, name string }
	var refs []ref
	for _, c := range r.clusters {
		if n, _, _ := unstructured.NestedString(c.obj.Object, "spec", "configMapName"); n != "" {
			refs = append(refs, ref{c.kctx, c.obj.GetNamespace(), n})
		}
	}
	for _, mc := range r.multis {
		base, _, _ := unstructured.NestedString(mc.obj.Object, "spec", "base", "spec", "configMapName")
		ns, _, _ := unstructured.NestedString(mc.obj.Object, "spec", "base", "metadata", "namespace")
		if ns == "" {
			ns = mc.obj.GetNamespace()
		}
		overrides, _, _ := unstructured.NestedMap(mc.obj.Object, "spec", "override")
		for kctx := range overrides {
			n, _, _ := unstructured.NestedString(overrides, kctx, "spec", "configMapName")
			if n == "" {
				n = base
			}
			if n != "" {
				refs = append(refs, ref{kctx, ns, n})
			}
		}
	}
	seen := map[ref]bool{}
	for _, rf := range refs {
		if seen[rf] || !slices.Contains(r.known, rf.kctx) {
			continue
		}
		seen[rf] = true
		m, err := r.manager(rf.kctx)
		if err != nil {
			return err
		}
		cm, err := m.GetObject(ctx, rf.kctx, configMapKind, rf.ns, rf.name)
		if err != nil {
			return err
		}
		if cm != nil {
			if err := r.add(rf.kctx, cm, false); err != nil {
				return err
			}
		}
	}
	return nil
}
