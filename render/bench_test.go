package render

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/kustomize/api/krusty"

	"github.com/ringops/ringops/schemas"
)

// The overhead of ringops over kustomize is
// BenchmarkRenderExample/<region> / BenchmarkBareKrusty/<region>:
// the same overlay, built by krusty alone in the second.

var exampleContexts = []string{"eu-west", "us-east", "ap-south"}

// uncached renders every time: the benchmarks measure builds, not the cache.
func uncached() *Renderer { return New(Options{CacheEntries: -1}) }

// cpuTime is the CPU time (user + system) the process used so far. The
// benchmarks report it per operation as cpu-ns/op: on a shared machine it
// is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// loop runs op once untimed (kustomize initialises its OpenAPI schema on
// first use, some 100 ms), then b.N times, reporting allocations and
// cpu-ns/op.
func loop(b *testing.B, op func() error) {
	if err := op(); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	start := cpuTime()
	n := 0
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

func BenchmarkRenderExample(b *testing.B) {
	root, dir, c := openRepo(b, exampleRepo)
	r := uncached()
	for _, kc := range exampleContexts {
		b.Run(kc, func(b *testing.B) {
			loop(b, func() error {
				_, err := r.Render(context.Background(), root.FS(), dir, c, kc)
				return err
			})
		})
	}
}

func BenchmarkRenderExampleAllRegions(b *testing.B) {
	root, dir, c := openRepo(b, exampleRepo)
	r := uncached()
	loop(b, func() error {
		_, err := r.RenderAll(context.Background(), root.FS(), dir, c)
		return err
	})
}

// BenchmarkBareKrusty runs krusty, with the renderer's options, on exactly
// the in-memory overlay the renderer builds for the example.
func BenchmarkBareKrusty(b *testing.B) {
	root, dir, c := openRepo(b, exampleRepo)
	r := New(DefaultOptions())
	for _, kc := range exampleContexts {
		base, err := newBase(c, kc)
		require.NoError(b, err)
		comp, err := r.component(root.FS(), RegionDir(dir, kc))
		require.NoError(b, err)
		require.NoError(b, comp.check())
		p, err := prepare(base, comp, kc)
		require.NoError(b, err)
		b.Run(kc, func(b *testing.B) {
			loop(b, func() error {
				_, err := krusty.MakeKustomizer(krustyOptions()).Run(p.overlay, overlayRoot)
				return err
			})
		})
	}
}

// BenchmarkRender100Clusters renders 100 clusters of 3 regions each (copies
// of the example, named c000..c099) from one in-memory repository.
func BenchmarkRender100Clusters(b *testing.B) {
	render100(b, uncached())
}

// BenchmarkRender100ClustersCached is the same pass when no input changed
// since the last: every render is a cache hit (inputs hashed, objects
// copied).
func BenchmarkRender100ClustersCached(b *testing.B) {
	render100(b, New(DefaultOptions()))
}

func render100(b *testing.B, r *Renderer) {
	fsys, clusters := hundredClusters(b)
	pass := func() error {
		for _, c := range clusters {
			if _, err := r.RenderAll(context.Background(), fsys, "clusters/"+c.Metadata.Name, c); err != nil {
				return err
			}
		}
		return nil
	}
	loop(b, pass) // with a cache, the untimed first pass fills it: the loop measures hits
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "heap-MiB") // live after the passes, cache included
	runtime.KeepAlive(r)
}

// hundredClusters copies the example's cluster directory 100 times, with
// "orders" renamed in the spec and the Components.
func hundredClusters(b *testing.B) (fstest.MapFS, []*schemas.CassandraCluster) {
	src := os.DirFS(path.Join(exampleRepo, "clusters", "orders"))
	fsys := fstest.MapFS{}
	var clusters []*schemas.CassandraCluster
	for i := range 100 {
		name := fmt.Sprintf("c%03d", i)
		err := fs.WalkDir(src, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := fs.ReadFile(src, p)
			if err != nil {
				return err
			}
			data = []byte(strings.ReplaceAll(string(data), "orders", name))
			fsys[path.Join("clusters", name, p)] = &fstest.MapFile{Data: data}
			if p == "cluster.yaml" {
				c, err := schemas.Parse(p, data)
				if err != nil {
					return err
				}
				clusters = append(clusters, c)
			}
			return nil
		})
		require.NoError(b, err)
	}
	return fsys, clusters
}

// BenchmarkRingopsOverhead measures what Render does besides kustomize,
// on the example: load and check the Component, generate the base and the
// overlay, check the targets and finish kustomize's output (computed once,
// outside the loop). It is the numerator of overhead = 1 + this/bare, less
// noisy than the difference of two benchmarks on a shared machine.
func BenchmarkRingopsOverhead(b *testing.B) {
	root, dir, c := openRepo(b, exampleRepo)
	r := uncached()
	for _, kc := range exampleContexts {
		base, err := newBase(c, kc)
		require.NoError(b, err)
		comp, err := r.component(root.FS(), RegionDir(dir, kc))
		require.NoError(b, err)
		require.NoError(b, comp.check())
		p, err := prepare(base, comp, kc)
		require.NoError(b, err)
		rm, err := kustomize(context.Background(), p.overlay)
		require.NoError(b, err)
		b.Run(kc, func(b *testing.B) {
			loop(b, func() error {
				comp, err := r.component(root.FS(), RegionDir(dir, kc))
				if err != nil {
					return err
				}
				if err := comp.check(); err != nil {
					return err
				}
				p, err := prepare(base, comp, kc)
				if err != nil {
					return err
				}
				if err := checkTargets(comp.file(), comp.kust, rm); err != nil {
					return err
				}
				_, err = finish(rm, p.generated, base.configMapID())
				return err
			})
		})
	}
}

// atBoundsSpec is a valid spec at the schema's bounds, every datacenter
// in one context (the worst render): 32 datacenters, 256 racks, 5000
// nodes, 16 seeds per datacenter (512 seed names in every pod).
func atBoundsSpec() string {
	var b strings.Builder
	b.WriteString("apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: orders, namespace: cassandra}\nspec:\n")
	fmt.Fprintf(&b, "  image: cassandra:5.0.4\n  seedsPerDatacenter: %d\n  storage: {size: 100Gi}\n  datacenters:\n", schemas.MaxSeedsPerDatacenter)
	racks, nodes := 0, 0
	for i := range schemas.MaxDatacenters {
		n := schemas.MaxRacks / schemas.MaxDatacenters
		fmt.Fprintf(&b, "    - name: datacenter-%02d\n      context: eu-west\n      racks:\n", i)
		for j := range n {
			per := (schemas.MaxClusterNodes - nodes) / (schemas.MaxRacks - racks)
			fmt.Fprintf(&b, "        - {name: rack-%02d, nodes: %d}\n", j, per)
			racks, nodes = racks+1, nodes+per
		}
	}
	return b.String()
}

// BenchmarkValidateAtBounds: parse, default and validate the spec at the
// bounds.
func BenchmarkValidateAtBounds(b *testing.B) {
	data := []byte(atBoundsSpec())
	loop(b, func() error {
		_, err := schemas.Parse("clusters/orders/cluster.yaml", data)
		return err
	})
	reportMaxRSS(b)
}

// BenchmarkRenderAtBounds renders the spec at the bounds in its one
// context: 256 StatefulSets; "component-at-budget" adds a Component of
// almost DefaultOptions().MaxYAMLNodes nodes (24 ConfigMaps of MaxMappingKeys keys) and a
// patch of every StatefulSet. It reports the process's peak resident
// memory (max-rss-MiB, of the whole benchmark binary). On the 2-core
// development machine (shared, loaded): validate 4 ms CPU, 42 MiB;
// render 1.5 s CPU, 170 MiB, 470 MB allocated; with the Component at the
// budget 3.5 s CPU, 197 MiB, 840 MB allocated.
func BenchmarkRenderAtBounds(b *testing.B) {
	spec := atBoundsSpec()
	c, err := schemas.Parse("clusters/orders/cluster.yaml", []byte(spec))
	require.NoError(b, err)
	big := func(first int) string { // 12 ConfigMaps of MaxMappingKeys keys: 48,000 nodes, under 1 MiB
		var b strings.Builder
		for m := first; m < first+12; m++ {
			fmt.Fprintf(&b, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big-%02d, namespace: cassandra}\ndata:\n", m)
			for i := range MaxMappingKeys {
				fmt.Fprintf(&b, "  k%06d: v\n", i)
			}
		}
		return b.String()
	}
	for _, bc := range []struct {
		name  string
		files map[string]string
	}{
		{"no-component", nil},
		{"component-at-budget", map[string]string{
			"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [big1.yaml, big2.yaml]\npatches:\n- target: {kind: StatefulSet}\n  patch: |\n    {apiVersion: apps/v1, kind: StatefulSet, metadata: {name: any}, spec: {template: {metadata: {annotations: {team: db}}}}}\n",
			"big1.yaml":          big(0),
			"big2.yaml":          big(12),
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			fsys := fstest.MapFS{"clusters/orders/cluster.yaml": {Data: []byte(spec)}}
			for p, data := range bc.files {
				fsys["clusters/orders/regions/eu-west/"+p] = &fstest.MapFile{Data: []byte(data)}
			}
			r := uncached()
			loop(b, func() error {
				m, err := r.Render(context.Background(), fsys, "clusters/orders", c, "eu-west")
				if err == nil && len(m.Objects) < schemas.MaxRacks {
					err = fmt.Errorf("%d objects", len(m.Objects))
				}
				return err
			})
			reportMaxRSS(b)
		})
	}
}

// reportMaxRSS reports the peak resident memory of the process so far.
func reportMaxRSS(b *testing.B) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
		b.ReportMetric(float64(ru.Maxrss)/1024, "max-rss-MiB")
	}
}
