package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"
)

// FuzzRenderComponent renders the orders cluster in eu-west with a region
// Component made of a kustomization and one resource file, both from the
// fuzzer: the render never panics, ends within its deadline and stays
// within the YAML budget (an alias bomb is refused with ErrTooLarge, never
// expanded), and succeeds only with the generated objects. Seeds: the
// example repository's eu-west Component, the alias bombs of the tests,
// and testdata/fuzz/FuzzRenderComponent.
//
//	go test -run=NONE -fuzz=FuzzRenderComponent -fuzztime=60s ./render
func FuzzRenderComponent(f *testing.F) {
	example := "../clusters-example/clusters/orders/regions/eu-west/"
	kust, _ := os.ReadFile(example + "kustomization.yaml")
	for _, name := range []string{"storage-class.yaml", "node-affinity.yaml", "external-dns.yaml"} {
		if data, err := os.ReadFile(filepath.Join(example, name)); err == nil {
			f.Add(kust, data)
		}
	}
	res := componentHeader + "resources: [r.yaml]\n"
	f.Add([]byte(res), []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: cassandra}\nbomb:\n"+indent(aliasBomb, "  ")))
	f.Add([]byte(componentHeader+"patches:\n- path: r.yaml\n  target: {kind: StatefulSet}\n"), []byte("- {op: add, path: /metadata/labels/x, value: y}\n"))
	f.Fuzz(func(t *testing.T, kustomization, resource []byte) {
		fsys := fstest.MapFS{
			"clusters/orders/cluster.yaml":    {Data: []byte(ordersSpec)},
			regionDir + "/kustomization.yaml": {Data: kustomization},
			regionDir + "/r.yaml":             {Data: resource},
			regionDir + "/storage-class.yaml": {Data: resource},
			regionDir + "/node-affinity.yaml": {Data: resource},
			regionDir + "/external-dns.yaml":  {Data: resource},
		}
		r := New(Options{MaxYAMLNodes: 20_000, Timeout: 20 * time.Second, CacheEntries: -1})
		m, err := r.Render(context.Background(), fsys, "clusters/orders", ordersCluster(t), "eu-west")
		if errors.Is(err, ErrDeadline) {
			t.Fatalf("render past its deadline: %v", err)
		}
		if err == nil && len(m.Objects) < 4 {
			t.Fatalf("a render without the generated objects: %d objects", len(m.Objects))
		}
	})
}
