package main

import (
	"github.com/spf13/cobra"

	"github.com/ringops/ringops/review/pullrequests"
)

// checkPullRequestCommand is the hidden subcommand `ringops run
// --pr-validation` runs, once per pull-request head, as a child process
// with memory and time limits (pullrequests.Isolated): a head that makes
// the plan run out of memory kills the child, never the daemon.
const checkPullRequestCommand = "check-pull-request"

func newCheckPullRequestCommand() *cobra.Command {
	return &cobra.Command{
		Use:    checkPullRequestCommand,
		Short:  "Plan one pull-request head read from stdin (the daemon's child process)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return pullrequests.ServeChild(cmd.Context(), cmd.InOrStdin(), cmd.OutOrStdout())
		},
	}
}
