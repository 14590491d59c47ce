package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

// Exit codes, the same for every command so that CI jobs can branch on them.
const (
	ExitOK      = 0 // success; for plan: no change
	ExitChanges = 1 // plan: the change implies operations
	ExitInvalid = 2 // a spec, a change or a Component is invalid; nothing was applied
	ExitError   = 3 // anything else: I/O, a cluster or forge that cannot be reached
	// ExitUnhealthy: status: the ring is not healthy (a node down, joining,
	// leaving, not queried, ...); the reasons are printed.
	ExitUnhealthy = 4
	// ExitBlocked: apply: the rollout cannot go on without a human (a step
	// the planner refuses, spec.rollout.paused, no change window open);
	// the reason is printed.
	ExitBlocked = 5
	// ExitTimeout: apply: a step waited longer than
	// spec.rollout.healthTimeout, or --timeout passed before convergence.
	ExitTimeout = 6
	// ExitUnreachable: apply: an API server cannot be read (the seed
	// region's blocks everything, another's every disruptive step).
	ExitUnreachable = 7
	ExitUsage       = 64
)

// exitError carries an exit code through cobra; its message has already been
// printed (or is printed by Main).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Main runs ringops with args and returns its exit code. It is the whole
// program but for os.Exit, so that tests drive the real commands.
func Main(args []string, stdout, stderr io.Writer) int {
	root := newRootCommand(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stderr, "ringops:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "ringops:", err)
	var ue *usageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitError
}

type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

func newRootCommand(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "ringops",
		Short: "Run multi-region Apache Cassandra on Kubernetes from a Git repository",
		Long: `ringops renders Cassandra clusters described in a Git repository into
Kubernetes objects per region (kube context), and rolls changes out seed
region first, one safe step at a time, gated on ring health read over Jolokia.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newApplyCommand(),
		newImportCommand(),
		newDiffCommand(),
		newPlanCommand(),
		newRenderCommand(),
		newRunCommand(),
		newStatusCommand(),
		newValidateCommand(),
		newVersionCommand(),
		newCheckPullRequestCommand(),
	)
	return root
}
