package reconciler

import (
	"context"
	"errors"
	"fmt"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

// ErrBadStep: a step lacks what its action needs (the planner's bug, not
// the cluster's).
var ErrBadStep = errors.New("malformed step")

// Execute carries out a plan's steps in order, as each plan.Action's
// documentation says, and stops at the first error: the steps after it
// are not executed, and the caller plans again. A plan without steps is
// one Waiting event. Every event also goes to Clients.Events. Under a
// Fence (WithFence), each step is let through by the fence first, its
// objects stamped with the fence's term; a refusal ends Execute with
// ErrFenced before the step, with no event for it.
func (e *Engine) Execute(ctx context.Context, p plan.Plan) ([]Event, error) {
	if len(p.Steps) == 0 {
		return []Event{e.emit(Event{Kind: Waiting, At: e.clock.Now(), Cluster: p.Cluster, Revision: p.Revision, Wait: p.Wait})}, nil
	}
	var events []Event
	for _, s := range p.Steps {
		s, done, err := fenced(ctx, s)
		if err != nil {
			return events, fmt.Errorf("cluster %s: %w", p.Cluster, err)
		}
		ev := Event{Cluster: p.Cluster, Revision: p.Revision, Step: s}
		ev.Kind, ev.At = StepStarted, e.clock.Now()
		events = append(events, e.emit(ev))
		results, err := e.execute(ctx, p.Cluster, s)
		done()
		ev.At, ev.Results = e.clock.Now(), results
		if err != nil {
			ev.Kind, ev.Err = StepFailed, err
			events = append(events, e.emit(ev))
			return events, err
		}
		ev.Kind = StepDone
		events = append(events, e.emit(ev))
	}
	return events, nil
}

// execute does one step.
func (e *Engine) execute(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	if err := checkStep(s); err != nil {
		return nil, err
	}
	// auth (#21): the agents' Secret, at the spec's rotation, before a pod may need it.
	kept, err := e.keepSecrets(ctx, cluster, s)
	if err != nil {
		return kept, err
	}
	results, err := e.do(ctx, cluster, s)
	return append(kept, results...), err
}

// do carries out one checked step's action.
func (e *Engine) do(ctx context.Context, cluster string, s plan.Step) ([]kube.Result, error) {
	target := kube.Ref(s.Target)
	switch s.Action {
	case plan.ApplyObjects, plan.CreateStatefulSet:
		return e.kube.Apply(ctx, s.Context, s.Objects...)
	case plan.UpdateStatefulSet:
		return one(e.kube.ApplyObject(ctx, s.Context, s.Objects[0]))
	case plan.ScaleStatefulSet:
		return e.scale(ctx, s)
	case plan.RestartPod:
		return e.restart(ctx, s)
	case plan.Decommission, plan.ResumeBootstrap, plan.UpgradeSSTables, plan.Rebuild, plan.Cleanup:
		return e.operate(ctx, cluster, s)
	case plan.AlterKeyspace:
		return e.alterKeyspaces(ctx, cluster, s)
	case plan.ReplaceNode: // replace (#16), replace.go
		return e.replaceNode(ctx, s)
	case plan.RemoveNode:
		return e.removeNode(ctx, cluster, s)
	case plan.DeletePVC:
		return one(e.kube.DeletePVC(ctx, s.Context, target))
	case plan.ExpandPVC:
		return one(e.kube.ExpandPVC(ctx, s.Context, target, s.Size))
	case plan.RecreateStatefulSet:
		return one(e.kube.RecreateStatefulSet(ctx, s.Context, target, s.Objects[0]))
	case plan.DeleteStatefulSet:
		return one(e.kube.DeleteStatefulSet(ctx, s.Context, target))
	case plan.Prune:
		return one(e.kube.Prune(ctx, s.Context, target))
	case plan.AdoptStatefulSet: // #20
		return one(e.kube.AdoptStatefulSet(ctx, s.Context, s.Objects[0]))
	case plan.DeleteCassKopObject:
		return one(e.kube.DeleteCassKopObject(ctx, s.Context, target))
	}
	return nil, fmt.Errorf("step %s: %w: unknown action", s.Action, ErrBadStep)
}

// checkStep refuses a step without the objects its action applies.
func checkStep(s plan.Step) error {
	switch s.Action {
	case plan.ApplyObjects, plan.CreateStatefulSet, plan.UpdateStatefulSet, plan.ScaleStatefulSet,
		plan.RestartPod, plan.Decommission, plan.ResumeBootstrap, plan.UpgradeSSTables, plan.RecreateStatefulSet,
		plan.ReplaceNode, plan.RemoveNode, plan.Rebuild, plan.Cleanup, plan.AdoptStatefulSet:
		if len(s.Objects) == 0 || s.Objects[0] == nil {
			return fmt.Errorf("step %s %s: %w: no object to apply", s.Action, s.Target.Name, ErrBadStep)
		}
	}
	switch s.Action {
	case plan.RestartPod, plan.Decommission, plan.ResumeBootstrap, plan.UpgradeSSTables, plan.ReplaceNode, plan.Rebuild, plan.Cleanup:
		if s.Pod == "" {
			return fmt.Errorf("step %s %s: %w: no pod", s.Action, s.Target.Name, ErrBadStep)
		}
	}
	if s.Action == plan.AlterKeyspace && (len(s.Keyspaces) == 0 || s.Datacenter == "") {
		return fmt.Errorf("step %s %s: %w: no keyspace or no datacenter", s.Action, s.Target.Name, ErrBadStep)
	}
	return checkReplaceStep(s)
}

// one is the outcome of a single operation: no result when it did
// nothing.
func one(r kube.Result, err error) ([]kube.Result, error) {
	if r.Action == 0 {
		return nil, err
	}
	return []kube.Result{r}, err
}

// scale applies the new replicas; going down after a decommission, the
// freed node's PVC is marked first, so that it is never reused.
func (e *Engine) scale(ctx context.Context, s plan.Step) ([]kube.Result, error) {
	var results []kube.Result
	if s.MarkPVC != "" {
		r, err := one(e.kube.MarkPVCDecommissioned(ctx, s.Context, s.Target.Namespace, s.MarkPVC, e.clock.Now()))
		results = append(results, r...)
		if err != nil {
			return results, err
		}
	}
	r, err := one(e.kube.ApplyObject(ctx, s.Context, s.Objects[0]))
	return append(results, r...), err
}

// restart lowers the partition; a pod that is down is then deleted (UID
// precondition) since the controller would never replace it.
func (e *Engine) restart(ctx context.Context, s plan.Step) ([]kube.Result, error) {
	results, err := one(e.kube.ApplyObject(ctx, s.Context, s.Objects[0]))
	if err != nil || s.DeletePod == "" {
		return results, err
	}
	r, err := one(e.kube.DeletePod(ctx, s.Context, s.Target.Namespace, s.Pod, s.DeletePod))
	return append(results, r...), err
}
