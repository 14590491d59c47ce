package pullrequests

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"

	"github.com/ringops/ringops/review"
	"github.com/ringops/ringops/sources/forge"
)

// ErrNoPullRequestRefs: the forge advertises no pull-request refs
// (Bitbucket) and Options.Patterns names none.
var ErrNoPullRequestRefs = errors.New("the forge advertises no pull-request refs")

// RefPatterns returns the refs under which kind advertises the head of
// each open (and closed) pull request, as path.Match patterns: GitHub,
// Gitea and Forgejo "refs/pull/*/head", GitLab
// "refs/merge-requests/*/head"; none for Bitbucket (see the package
// documentation) or an unknown kind.
func RefPatterns(kind forge.Kind) []string {
	switch kind {
	case forge.GitHub, forge.Gitea, forge.Forgejo:
		return []string{"refs/pull/*/head"}
	case forge.GitLab:
		return []string{"refs/merge-requests/*/head"}
	}
	return nil
}

// Options configure a Checker. Zero fields take the value of
// DefaultOptions.
type Options struct {
	// Forge is the kind of forge hosting the repository; it picks the
	// refs listed (RefPatterns).
	Forge forge.Kind
	// Patterns, when set, replace the forge's refs: path.Match patterns
	// on full ref names, e.g. "refs/pull/*/head".
	Patterns []string
	// Root is the slash path, in the repository, below which clusters are
	// looked for (review.Options.Root). Default ".".
	Root string
	// ManageKeyspaces: the daemon rolls out with --manage-keyspaces, and
	// the plans say what it then does to replication
	// (review.Options.ManageKeyspaces).
	ManageKeyspaces bool
	// MaxPerCheck bounds the heads fetched and planned by one Check; the
	// others wait for the next Checks. Default 20.
	MaxPerCheck int
	// MaxRemembered bounds the heads whose last check is remembered; the
	// least recently checked are forgotten first (and checked again when
	// their turn comes). Keep it above the number of pull-request refs
	// the repository advertises. Default 4096.
	MaxRemembered int
	// Renderer renders the clusters a change touches. nil: one
	// render.Renderer, shared by every Check (its cache serves the base).
	// Used by the default Planner only.
	Renderer review.Renderer
	// Planner plans each head. nil: InProcess with Renderer. The daemon
	// sets Isolated: a child process with memory and time limits.
	Planner Planner
	// Statuses, when set, reads the forge's statuses: a head the Checker
	// never checked (after a restart) whose ringops/plan status refused
	// it for good (RefusedPrefix) is not planned again.
	Statuses StatusReader
	// Logger receives one line per head checked. Default slog.Default().
	Logger *slog.Logger
}

// DefaultOptions: the whole repository, 20 heads per Check, 4096 heads
// remembered. Set Forge (or Patterns).
func DefaultOptions() Options {
	return Options{Root: ".", MaxPerCheck: 20, MaxRemembered: 4096}
}

// withDefaults fills zero fields and checks the others.
func (o Options) withDefaults() (Options, error) {
	d := DefaultOptions()
	if o.Root == "" {
		o.Root = d.Root
	}
	if o.MaxPerCheck == 0 {
		o.MaxPerCheck = d.MaxPerCheck
	}
	if o.MaxRemembered == 0 {
		o.MaxRemembered = d.MaxRemembered
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if len(o.Patterns) == 0 {
		o.Patterns = RefPatterns(o.Forge)
	}
	return o, o.validate()
}

func (o Options) validate() error {
	var errs []error
	if len(o.Patterns) == 0 {
		errs = append(errs, fmt.Errorf("forge %q: %w; set the ref patterns to read", o.Forge, ErrNoPullRequestRefs))
	}
	for _, p := range o.Patterns {
		if _, err := path.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("ref pattern %q: %w", p, err))
		}
	}
	if !fs.ValidPath(o.Root) {
		errs = append(errs, fmt.Errorf("root %q: not a slash path inside the repository", o.Root))
	}
	if o.MaxPerCheck < 0 || o.MaxRemembered < o.MaxPerCheck {
		errs = append(errs, fmt.Errorf("max per check (%d) must be positive and at most max remembered (%d)", o.MaxPerCheck, o.MaxRemembered))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pull requests: options: %w", err)
	}
	return nil
}
