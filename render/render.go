package render

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/schemas"
)

// Options bound what a region Component may hold, and how many renders
// are remembered. Zero fields take the value of DefaultOptions.
type Options struct {
	// MaxFileSize is the largest file of a region Component, in bytes.
	MaxFileSize int64
	// MaxFiles is the most files a region Component may hold (recursively).
	MaxFiles int
	// MaxTotalSize is the most bytes all the files of a region Component
	// may hold together.
	MaxTotalSize int64
	// MaxYAMLNodes is the most YAML nodes all the files of a region
	// Component may hold together, counted with their anchors and aliases
	// expanded, as kustomize will see them (inline patches included); no
	// mapping may have more than MaxMappingKeys keys.
	MaxYAMLNodes int
	// Timeout bounds one render (the wait for the kustomize lock and the
	// build). kustomize cannot be stopped: a build past its deadline goes
	// on in the background, holding the lock, and its result is dropped.
	Timeout time.Duration
	// CacheEntries is how many renders the Renderer remembers, keyed by
	// their inputs (spec, context, Component files), so that only what
	// changed is built again; negative: none.
	CacheEntries int
}

// DefaultOptions: files up to 1 MiB, at most 256 files, 8 MiB and
// 100,000 YAML nodes (aliases expanded) per region; 30 seconds per render;
// the last 512 renders remembered. A real Component is a few files of a
// few hundred nodes; a render at the spec's bounds, with a Component at
// the budget, takes a few seconds of CPU (BenchmarkRenderAtBounds).
func DefaultOptions() Options {
	return Options{MaxFileSize: 1 << 20, MaxFiles: 256, MaxTotalSize: 8 << 20, MaxYAMLNodes: 100_000,
		Timeout: 30 * time.Second, CacheEntries: 512}
}

// Renderer renders clusters. Its only state is a cache of past renders
// (a pure function's results); it is safe for concurrent use.
type Renderer struct {
	opts  Options
	cache *cache
}

// New returns a Renderer with opts (zero fields defaulted).
func New(opts Options) *Renderer {
	d := DefaultOptions()
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = d.MaxFileSize
	}
	if opts.MaxFiles <= 0 {
		opts.MaxFiles = d.MaxFiles
	}
	if opts.MaxTotalSize <= 0 {
		opts.MaxTotalSize = d.MaxTotalSize
	}
	if opts.MaxYAMLNodes <= 0 {
		opts.MaxYAMLNodes = d.MaxYAMLNodes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = d.Timeout
	}
	if opts.CacheEntries == 0 {
		opts.CacheEntries = d.CacheEntries
	}
	return &Renderer{opts: opts, cache: newCache(opts.CacheEntries)}
}

// Manifests are the objects of one cluster in one kube context, sorted:
// ConfigMap, Service, PodDisruptionBudgets, StatefulSets, then any other
// kind a Component added; then by namespace and name.
type Manifests struct {
	Cluster string
	Context string
	Objects []*unstructured.Unstructured
}

// YAML returns the objects as YAML documents separated by "---", in order,
// each with its keys sorted.
func (m *Manifests) YAML() []byte {
	var buf []byte
	for i, u := range m.Objects {
		if i > 0 {
			buf = append(buf, "---\n"...)
		}
		y, err := yaml.Marshal(u.Object)
		if err != nil { // unstructured content always marshals
			panic(fmt.Sprintf("render: %s: %v", idOf(u), err))
		}
		buf = append(buf, y...)
	}
	return buf
}

// JSON returns the objects as an indented v1 List.
func (m *Manifests) JSON() []byte {
	items := make([]map[string]any, len(m.Objects))
	for i, u := range m.Objects {
		items[i] = u.Object
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("render: %v", err))
	}
	return append(b, '\n')
}

// RegionDir is the slash path of a context's Component in the repository.
func RegionDir(clusterDir, kubeContext string) string {
	return path.Join(clusterDir, "regions", kubeContext)
}

// Render renders cluster c in kubeContext. fsys is the repository (on disk,
// os.OpenRoot(dir).FS(), which refuses symlinks leaving it; or a snapshot);
// clusterDir is the slash path of clusters/<name> inside it ("." when fsys
// is the cluster directory itself). c should be defaulted (a copy is
// defaulted otherwise; c is never modified).
//
// Every error starts with "cluster <name>: context <context>: " and names
// the file (and field) when it is in a region Component, as a *FileError;
// see the Err* sentinels.
func (r *Renderer) Render(ctx context.Context, fsys fs.FS, clusterDir string, c *schemas.CassandraCluster, kubeContext string) (*Manifests, error) {
	c = defaulted(c)
	ctx, cancel := context.WithTimeoutCause(ctx, r.opts.Timeout, fmt.Errorf("%w (%s): %w", ErrDeadline, r.opts.Timeout, context.DeadlineExceeded))
	defer cancel()
	m, err := r.renderContext(ctx, fsys, clusterDir, c, kubeContext)
	if err != nil {
		return nil, fmt.Errorf("cluster %s: context %s: %w", c.Metadata.Name, kubeContext, err)
	}
	return m, nil
}

func (r *Renderer) renderContext(ctx context.Context, fsys fs.FS, clusterDir string, c *schemas.CassandraCluster, kubeContext string) (*Manifests, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if !fs.ValidPath(clusterDir) {
		return nil, fmt.Errorf("cluster directory %q: not a slash path inside the repository", clusterDir)
	}
	if !validContext(kubeContext) {
		return nil, errors.New("cannot name a directory regions/<context> inside the repository")
	}
	b, err := newBase(c, kubeContext)
	if err != nil {
		return nil, err
	}
	return r.render(ctx, fsys, clusterDir, b, kubeContext)
}

func (r *Renderer) render(ctx context.Context, fsys fs.FS, clusterDir string, b *base, kubeContext string) (*Manifests, error) {
	comp, err := r.component(fsys, RegionDir(clusterDir, kubeContext))
	if err != nil {
		return nil, err
	}
	var key cacheKey
	cacheable := false
	if r.cache != nil {
		key, err = renderKey(b.c, clusterDir, kubeContext, comp)
		cacheable = err == nil
	}
	if cacheable {
		if objs, ok := r.cache.get(key); ok {
			return &Manifests{Cluster: b.c.Metadata.Name, Context: kubeContext, Objects: objs}, nil
		}
	}
	objs, err := build(ctx, b, comp, kubeContext, r.opts)
	if err != nil {
		return nil, err
	}
	if cacheable {
		r.cache.put(key, objs)
	}
	return &Manifests{Cluster: b.c.Metadata.Name, Context: kubeContext, Objects: objs}, nil
}

// builds counts the kustomize builds of the process (tests see the cache
// work with it).
var builds atomic.Int64

// build generates the base, builds it with the Component and finishes the
// objects.
func build(ctx context.Context, b *base, comp *component, kubeContext string, opts Options) ([]*unstructured.Unstructured, error) {
	builds.Add(1)
	if comp != nil {
		if err := comp.checkYAML(opts.MaxYAMLNodes); err != nil {
			return nil, err
		}
		if err := comp.check(); err != nil {
			return nil, err
		}
	}
	p, err := prepare(b, comp, kubeContext)
	if err != nil {
		return nil, err
	}
	rm, err := kustomize(ctx, p.overlay)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, err
	case comp != nil:
		return nil, fileErr(comp.file(), "", buildError(err, comp))
	default:
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	if comp != nil {
		if err := checkTargets(comp.file(), comp.kust, rm); err != nil {
			return nil, err
		}
	}
	objs, err := finish(rm, p.generated, b.configMapID())
	if err != nil && comp != nil {
		return nil, fileErr(comp.file(), "", err)
	}
	return objs, err
}

// prepared is what kustomize builds, and what its output is checked with.
type prepared struct {
	overlay   filesys.FileSystem
	generated []expected
}

// prepare generates the base and assembles the in-memory overlay.
func prepare(b *base, comp *component, kubeContext string) (*prepared, error) {
	baseYAML, generated, err := b.yaml()
	if err != nil {
		return nil, err
	}
	mem, err := overlay(baseYAML, comp)
	if err != nil {
		return nil, err
	}
	return &prepared{overlay: mem, generated: generated}, nil
}

// component loads the region's Component (checked by build, as a cache
// hit implies its files passed the checks before); nil when the repository
// has no directory for the region.
func (r *Renderer) component(fsys fs.FS, dir string) (*component, error) {
	st, err := fs.Stat(fsys, dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fileErr(dir, "", err)
	}
	if !st.IsDir() {
		return nil, fileErr(dir, "", fmt.Errorf("%w: not a directory", ErrNotComponent))
	}
	return loadComponent(fsys, dir, r.opts)
}

// RenderAll renders every context of c, seed region first.
func (r *Renderer) RenderAll(ctx context.Context, fsys fs.FS, clusterDir string, c *schemas.CassandraCluster) ([]*Manifests, error) {
	c = defaulted(c)
	var out []*Manifests
	for _, kc := range c.Contexts() {
		m, err := r.Render(ctx, fsys, clusterDir, c, kc)
		if err != nil {
			return out, err
		}
		out = append(out, m)
	}
	return out, nil
}

// validContext: a context names a directory regions/<context> (slashes
// allowed, as schemas does; no empty, . or .. segment).
func validContext(kc string) bool {
	return kc != "." && fs.ValidPath(kc) && !strings.ContainsAny(kc, "\\\x00\n")
}

// defaulted returns c if it is defaulted, else a defaulted deep copy.
func defaulted(c *schemas.CassandraCluster) *schemas.CassandraCluster {
	if isDefaulted(c) {
		return c
	}
	data, err := json.Marshal(c)
	if err != nil {
		panic(fmt.Sprintf("render: copy of the spec: %v", err))
	}
	cp := &schemas.CassandraCluster{}
	if err := json.Unmarshal(data, cp); err != nil {
		panic(fmt.Sprintf("render: copy of the spec: %v", err))
	}
	cp.Default()
	return cp
}

func isDefaulted(c *schemas.CassandraCluster) bool {
	s := &c.Spec
	if c.Metadata.Namespace == "" || s.CassandraClusterName == "" || s.ImagePullPolicy == "" ||
		s.NodesPerRack == nil || s.SeedsPerDatacenter == nil || s.Jolokia == nil ||
		s.Jolokia.Port == nil || s.Jolokia.AgentImage == "" || s.Pod == nil || s.Pod.TerminationGracePeriodSeconds == nil {
		return false
	}
	for _, dc := range s.Datacenters {
		if dc.DNSDomain == "" || dc.NodesPerRack == nil {
			return false
		}
		for _, r := range dc.Racks {
			if r.Nodes == nil {
				return false
			}
		}
	}
	return true
}
