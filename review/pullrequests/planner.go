package pullrequests

import (
	"context"
	"errors"
	"strings"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/review"
	"github.com/ringops/ringops/sources/forge"
)

// ErrLimits: planning a head went over the limits of a check (memory,
// time, input size), or the process planning it crashed. The head is
// refused for good: a failure status that starts with RefusedPrefix, and
// it is never planned again (a new push is a new head).
var ErrLimits = errors.New("over the limits of a pull-request check")

// RefusedPrefix starts the description of the failure status of a head
// refused for good (ErrLimits). It is the durable record of the refusal:
// a Checker that finds it on a head (Options.Statuses), after a restart
// too, does not plan that head again.
const RefusedPrefix = "not checked again: "

// Planner plans one pull-request head against the base. InProcess plans
// in this process; Isolated in a child process with memory and time
// limits, so that a hostile head cannot take the daemon down.
type Planner interface {
	Plan(ctx context.Context, req PlanRequest) (PlanResult, error)
}

// PlanRequest is one head to plan against the base, clusters looked for
// below Root.
type PlanRequest struct {
	Base, Head review.Tree
	Root       string
	// ManageKeyspaces: plan as the daemon rolls out with
	// --manage-keyspaces (review.Options.ManageKeyspaces).
	ManageKeyspaces bool
}

// PlanResult is what a plan found: what the ringops/plan status says.
type PlanResult struct {
	Outcome review.Outcome `json:"outcome"`
	// Summary is the plan's one-line summary.
	Summary string `json:"summary"`
	// Refused are the reasons the change is refused (Outcome Invalid).
	Refused []string `json:"refused,omitempty"`
}

// InProcess plans with review.Compare in this process.
type InProcess struct {
	// Renderer renders the clusters a change touches; nil: a new
	// render.Renderer for each plan.
	Renderer review.Renderer
}

// Plan runs review.Compare.
func (p InProcess) Plan(ctx context.Context, req PlanRequest) (PlanResult, error) {
	r := p.Renderer
	if r == nil {
		r = render.New(render.DefaultOptions())
	}
	doc, err := review.Compare(ctx, req.Base, req.Head, review.Options{Root: req.Root, Renderer: r, ManageKeyspaces: req.ManageKeyspaces})
	if err != nil {
		return PlanResult{}, err
	}
	return resultOf(doc), nil
}

// resultOf is the part of a plan's document a status needs.
func resultOf(doc *review.Document) PlanResult {
	res := PlanResult{Outcome: doc.Outcome, Summary: doc.Summary}
	for _, cl := range doc.Clusters {
		for _, p := range cl.Refused {
			res.Refused = append(res.Refused, p.String())
		}
	}
	return res
}

// StatusReader reads the statuses a forge shows on a revision: a
// forge.Client. It lets a Checker find the heads it refused for good
// before a restart.
type StatusReader interface {
	Latest(ctx context.Context, revision string) ([]forge.Remote, error)
}

// refusedOnForge reports whether the forge shows, on head, a ringops/plan
// status that refused it for good.
func refusedOnForge(ctx context.Context, sr StatusReader, head string) bool {
	remotes, err := sr.Latest(ctx, head)
	if err != nil {
		return false // unknown: the head is checked, within the limits
	}
	for _, r := range remotes {
		if r.Context == forge.PlanContext && strings.HasPrefix(r.Description, RefusedPrefix) {
			return true
		}
	}
	return false
}
