package reconciler

import (
	"context"
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
)

// Fence is asked before each step's writes whether they may go out: a
// sharded daemon (package daemon/shard) refuses unless this replica still
// holds the cluster's shard Lease and renewed it recently, so that a
// replica that lost the Lease stops before its next write. It returns
// the term to stamp on the objects the step writes
// (contract.AnnotationShardTerm), and done, called once the step is over
// (a shard given back is released only after its steps in flight).
type Fence func(ctx context.Context) (term string, done func(), err error)

// ErrFenced: the fence refused a step; nothing of it was written.
var ErrFenced = errors.New("refused by the fence: this replica may not write for the cluster")

type fenceKey struct{}

// WithFence returns ctx with f: Execute consults f before each step of a
// plan run under it. The daemon puts its cluster's fence on the context of
// the cluster's worker; without one (a single replica, `ringops apply`),
// every step goes out as before and nothing is stamped.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf is the fence WithFence put on ctx, nil without one: for an
// engine other than *Engine that must honour it as Execute does.
func FenceOf(ctx context.Context) Fence {
	f, _ := ctx.Value(fenceKey{}).(Fence)
	return f
}

// fenced passes s through ctx's fence: s with its objects stamped with
// the term (copies: the plan's objects are the target's, shared), and the
// done to call after the step; s itself and a no-op without a fence.
func fenced(ctx context.Context, s plan.Step) (plan.Step, func(), error) {
	f := FenceOf(ctx)
	if f == nil {
		return s, func() {}, nil
	}
	term, done, err := f(ctx)
	if err != nil {
		return s, nil, fmt.Errorf("step %s %s: %w: %w", s.Action, s.Target.Name, ErrFenced, err)
	}
	objs := make([]*unstructured.Unstructured, len(s.Objects))
	for i, o := range s.Objects {
		if o == nil {
			continue
		}
		o = o.DeepCopy()
		ann := o.GetAnnotations()
		if ann == nil {
			ann = map[string]string{}
		}
		ann[contract.AnnotationShardTerm] = term
		o.SetAnnotations(ann)
		objs[i] = o
	}
	s.Objects = objs
	return s, done, nil
}
