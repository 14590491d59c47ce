package forge

import (
	"errors"
	"fmt"
	"strings"
)

// State is what a commit status says about a revision. Each forge names
// the states its own way (Client.NativeState); these are ringops' words.
type State int

const (
	// StatePending: the revision was picked up and its rollout is under way
	// (or waiting); the description says which step or wait.
	StatePending State = iota + 1
	// StateSuccess: this part of the rollout is done and the ring is healthy
	// at this revision.
	StateSuccess
	// StateFailure: the revision is invalid or a gate timed out.
	StateFailure
	// StateError: ringops itself could not finish (an internal or
	// infrastructure error, not the change's fault).
	StateError
	// StateCanceled: the revision was superseded by a newer one before its
	// rollout finished. Forges without a "canceled" state show it as an
	// error with a "superseded by" description.
	StateCanceled
)

var stateNames = map[State]string{
	StatePending:  "pending",
	StateSuccess:  "success",
	StateFailure:  "failure",
	StateError:    "error",
	StateCanceled: "canceled",
}

func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// Terminal reports whether the state ends a rollout of the revision in that
// context: terminal states are never coalesced away by the queue.
func (s State) Terminal() bool { return s != StatePending }

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool { _, ok := stateNames[s]; return ok }

// Status is one commit status: what ringops says about Revision in
// Context. It is a value; the Queue decides when (and whether) it reaches
// the forge.
type Status struct {
	// Revision is the full commit SHA the status is attached to.
	Revision string
	// Context names the status on the commit (GitHub "context", GitLab
	// "name", Bitbucket "name"), e.g. "ringops/orders/eu-west".
	Context string
	// State of the revision in this context.
	State State
	// Description is one line for humans; it is cleaned and truncated to
	// the forge's limit before posting.
	Description string
	// TargetURL links to the details (all validation errors, the log);
	// optional except on Bitbucket, whose client then links the repository.
	TargetURL string
}

func (s Status) String() string {
	return fmt.Sprintf("%s %s@%s: %q", s.State, s.Context, shortSHA(s.Revision), s.Description)
}

// ErrInvalidStatus is returned by Report for a Status that cannot be posted.
var ErrInvalidStatus = errors.New("invalid status")

// Validate checks the fields every forge needs.
func (s Status) Validate() error {
	var errs []error
	if !isHex(s.Revision) || (len(s.Revision) != 40 && len(s.Revision) != 64) {
		errs = append(errs, fmt.Errorf("revision %q is not a full commit SHA", s.Revision))
	}
	if strings.TrimSpace(s.Context) == "" {
		errs = append(errs, errors.New("context is empty"))
	}
	if !s.State.Valid() {
		errs = append(errs, fmt.Errorf("state %s is not defined", s.State))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("status %s: %w: %w", s.Context, ErrInvalidStatus, err)
	}
	return nil
}

func isHex(s string) bool {
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return s != ""
}

func shortSHA(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

// Context names (one per cluster and region, one for plans on PR heads, one
// summary for the revision as a whole).
const (
	// ContextPrefix starts every context ringops posts.
	ContextPrefix = "ringops"
	// SummaryContext is the status of the revision as a whole.
	SummaryContext = ContextPrefix
	// PlanContext carries `ringops plan` on pull-request heads.
	PlanContext = ContextPrefix + "/plan"
)

// RegionContext is the context of one cluster in one region:
// "ringops/<cluster>/<region>".
func RegionContext(cluster, region string) string {
	return ContextPrefix + "/" + cluster + "/" + region
}

// Pending is the status of a rollout under way; desc is the current step
// or wait, e.g. "eu-west: r2 scaling 2 -> 3, waiting for ring: 10.1.0.7 joining".
func Pending(revision, context, desc string) Status {
	return Status{Revision: revision, Context: context, State: StatePending, Description: desc}
}

// Succeeded is the status of a finished rollout with a healthy ring.
func Succeeded(revision, context, desc string) Status {
	return Status{Revision: revision, Context: context, State: StateSuccess, Description: desc}
}

// Failed is the status of a revision that failed validation or a gate.
// The description carries the first error and how many there are;
// all of them belong behind the target URL or in the log.
func Failed(revision, context string, errs ...error) Status {
	return Status{Revision: revision, Context: context, State: StateFailure, Description: FailureDescription(errs)}
}

// Superseded is the status left on an older revision whose rollout was
// overtaken by revision by.
func Superseded(revision, context, by string) Status {
	return Status{Revision: revision, Context: context, State: StateCanceled,
		Description: "superseded by " + shortSHA(by)}
}

// FailureDescription is the first error, prefixed with the count when
// there are several ("3 errors, first: ..."), so that truncation to the
// forge's limit keeps the count; "failed" when no error is given.
func FailureDescription(errs []error) string {
	var first string
	n := 0
	for _, err := range errs {
		if err == nil {
			continue
		}
		if n == 0 {
			first = err.Error()
		}
		n++
	}
	switch n {
	case 0:
		return "failed"
	case 1:
		return first
	default:
		return fmt.Sprintf("%d errors, first: %s", n, first)
	}
}
