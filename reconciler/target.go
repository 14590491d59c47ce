package reconciler

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/schemas"
)

// Source is one revision of one cluster, as read from a repository.
type Source struct {
	// Name is the cluster's name, for messages when the spec could not be
	// read (Cluster nil).
	Name string
	// Revision names the revision (a commit) in messages; may be empty.
	Revision string
	// FS holds the repository; Dir is the slash path of the cluster's
	// directory (clusters/<name>) in it, "." when FS is that directory.
	FS  fs.FS
	Dir string
	// Cluster is the spec as schemas.Load returned it (defaulted and
	// valid), nil when LoadErr is set.
	Cluster *schemas.CassandraCluster
	// LoadErr is why the spec could not be loaded (syntax, validation):
	// the revision is then applied nowhere.
	LoadErr error
	// Previous is the spec of the revision rolled out before, nil when
	// none is known: the change is validated against it
	// (schemas.ValidateChange), and its contexts are observed too, so
	// that a removed datacenter is still seen.
	Previous *schemas.CassandraCluster
	// Contexts are kube contexts to observe besides those of Cluster and
	// Previous (where the cluster may have objects left).
	Contexts []string
}

// Target is a prepared revision: what the planner is asked to reach, and
// where and how the engine observes it.
type Target struct {
	// Desired is the planner's input; Desired.Invalid is set when the
	// revision must not be applied at all.
	Desired plan.Desired
	// Namespace is the cluster's namespace in every context.
	Namespace string
	// Contexts are the kube contexts observed: the revision's (seed
	// first), then the others, sorted.
	Contexts []string
	// Kinds are the kinds rendered besides kube.ObservedKinds (what a
	// region Component adds), observed so that they can be pruned.
	Kinds []schema.GroupVersionKind
	// JolokiaPort is the agents' port when a pod does not name it.
	JolokiaPort int32
	// Settle is spec.rollout.settle: how long after the ring became
	// healthy a disruptive step may start.
	Settle time.Duration
}

// Name is the cluster's name.
func (t *Target) Name() string {
	if t.Desired.Cluster != nil {
		return t.Desired.Cluster.Metadata.Name
	}
	return t.Desired.Name
}

// Prepare turns a revision into a Target: it validates the change
// against the previous revision (Source.Previous, and what the clusters
// recorded as last applied: recordedSpecs) and renders every context. A spec that
// could not be loaded, a change Cassandra cannot make safely, or a render
// error make the Target invalid (Desired.Invalid): its plan is Blocked
// and nothing at all is applied, nor observed.
func (e *Engine) Prepare(ctx context.Context, src Source) *Target {
	t := &Target{Desired: plan.Desired{Name: src.Name, Revision: src.Revision, Cluster: src.Cluster},
		JolokiaPort: jolokia.DefaultJolokiaPort}
	c := src.Cluster
	switch {
	case src.LoadErr != nil:
		t.Desired.Invalid = src.LoadErr
	case c == nil:
		t.Desired.Invalid = fmt.Errorf("cluster %s: no spec", src.Name)
	}
	if t.Desired.Invalid != nil {
		t.Desired.Cluster = nil
		return t
	}
	t.Desired.Name = c.Metadata.Name
	if errs := schemas.ValidateChange(src.Previous, c); len(errs) > 0 {
		t.Desired.Invalid = errs // judged without asking any API server
		return t
	}
	prevs, err := e.recordedSpecs(ctx, src, targetContexts(c, src.Previous, src.Contexts))
	if err != nil {
		t.Desired.Invalid = fmt.Errorf("cluster %s: the spec last applied: %w", c.Metadata.Name, err)
		return t
	}
	for _, prev := range prevs {
		if errs := schemas.ValidateChange(prev, c); len(errs) > 0 {
			t.Desired.Invalid = errs
			return t
		}
	}
	ms, err := e.renderer.RenderAll(ctx, src.FS, src.Dir, c)
	if err != nil {
		t.Desired.Invalid = err
		return t
	}
	t.Desired.Manifests = ms
	t.Namespace = c.Metadata.Namespace
	t.Contexts = targetContexts(c, src.Previous, src.Contexts)
	t.Kinds = extraKinds(t)
	t.JolokiaPort = jolokiaPort(c)
	t.Settle = settle(c)
	return t
}

// targetContexts are the contexts of c (seed first), then those of prev
// and the extra ones, sorted, each once.
func targetContexts(c, prev *schemas.CassandraCluster, extra []string) []string {
	out := c.Contexts()
	var more []string
	if prev != nil {
		more = append(more, prev.Contexts()...)
	}
	more = append(more, extra...)
	slices.Sort(more)
	for _, kc := range more {
		if kc != "" && !slices.Contains(out, kc) {
			out = append(out, kc)
		}
	}
	return out
}

// extraKinds are the rendered kinds kube.Observe does not list by itself.
func extraKinds(t *Target) []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, m := range t.Desired.Manifests {
		for _, u := range m.Objects {
			gvk := u.GroupVersionKind()
			if !slices.Contains(kube.ObservedKinds, gvk) && !slices.Contains(out, gvk) {
				out = append(out, gvk)
			}
		}
	}
	slices.SortFunc(out, func(a, b schema.GroupVersionKind) int {
		return strings.Compare(a.String(), b.String())
	})
	return out
}

func jolokiaPort(c *schemas.CassandraCluster) int32 {
	if c.Spec.Jolokia != nil && c.Spec.Jolokia.Port != nil && *c.Spec.Jolokia.Port > 0 {
		return *c.Spec.Jolokia.Port
	}
	return jolokia.DefaultJolokiaPort
}

// settle is spec.rollout.settle (validated by schemas), 0 when unset.
func settle(c *schemas.CassandraCluster) time.Duration {
	if c.Spec.Rollout == nil || c.Spec.Rollout.Settle == "" {
		return 0
	}
	d, err := time.ParseDuration(c.Spec.Rollout.Settle)
	if err != nil {
		return 0
	}
	return d
}
