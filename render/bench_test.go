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
