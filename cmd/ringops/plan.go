package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ringops/ringops/review"
	"github.com/ringops/ringops/sources/git"
)

// planFlags are the flags of `ringops plan`.
type planFlags struct {
	base, head string
	format     string
	maxBytes   int
	// manageKeyspaces: plan as ringops apply/run roll out with --manage-keyspaces (the default).
	manageKeyspaces bool
}

func newPlanCommand() *cobra.Command {
	var f planFlags
	cmd := &cobra.Command{
		Use:   "plan --base <rev> [--head <rev>] [--format text|markdown|json] [repo-path]",
		Short: "Describe what a change of the repository does to its clusters, for review",
		Long: `Plan compares two revisions of the repository and says what merging the
change would do to every cluster, in a Cassandra operator's words: datacenters
added or removed, nodes bootstrapped or decommissioned (how many, in which
order), racks rolled (how many nodes restart, in which order), seed list
changes, PVCs deleted, what change windows or a paused rollout hold back, and
what is refused and why. Then the rendered manifest diff of every region.

It needs no cluster and no credentials: both revisions are read from the local
Git repository holding repo-path (default: the current directory). Only
committed revisions are read: the working tree and the index are not, so
commit (or stash) local edits first. --base and --head take what git
rev-parse takes for a commit: a branch, a tag, origin/main, a hash, HEAD~1.
Clusters are looked for below repo-path; a cluster whose files did not change
is parsed but not rendered.

Formats: text for a terminal; markdown for a pull-request comment (a section
per region, cut to --max-bytes); json, the versioned plan document
(apiVersion ` + review.APIVersion + `) the other two are rendered from.

Exit status: 0 no change, 1 changes, 2 invalid (a spec, a Component or the
change itself is refused: nothing of it would be applied), 3 other errors
(the repository or a revision cannot be read).`,
		Example: `  ringops plan --base main
  ringops plan --base origin/main --head HEAD --format markdown > plan.md
  ringops plan --base HEAD~1 -o json clusters/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return &usageError{fmt.Errorf("plan takes at most one repo-path\nusage: %s", cmd.UseLine())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			repo := "."
			if len(args) == 1 {
				repo = args[0]
			}
			if err := f.check(); err != nil {
				return err
			}
			return runPlan(cmd.Context(), cmd.OutOrStdout(), repo, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.base, "base", "", "the revision the change is compared with (required), e.g. main or origin/main")
	fl.StringVar(&f.head, "head", "HEAD", "the revision holding the change")
	fl.StringVarP(&f.format, "format", "o", "text", "output: text, markdown or json (--output is the same flag)")
	fl.BoolVar(&f.manageKeyspaces, "manage-keyspaces", true, "plan keyspace replication changes, rebuilds of new datacenters and cleanups after lower factors, as ringops apply and run do; =false plans as they do with --manage-keyspaces=false")
	fl.IntVar(&f.maxBytes, "max-bytes", review.DefaultMarkdownOptions().MaxBytes, "markdown: cut the diffs to keep the output under this size (0: no limit)")
	fl.SetNormalizeFunc(func(_ *pflag.FlagSet, name string) pflag.NormalizedName {
		if name == "output" {
			name = "format"
		}
		return pflag.NormalizedName(name)
	})
	return cmd
}

func (f *planFlags) check() error {
	switch {
	case f.base == "":
		return &usageError{fmt.Errorf("--base is required: the revision to compare with, e.g. --base main")}
	case f.format != "text" && f.format != "markdown" && f.format != "json":
		return &usageError{fmt.Errorf("--format %q: must be text, markdown or json", f.format)}
	case f.maxBytes < 0:
		return &usageError{fmt.Errorf("--max-bytes must not be negative")}
	}
	return nil
}

func runPlan(ctx context.Context, stdout io.Writer, repoPath string, f planFlags) error {
	local, err := git.OpenLocal(repoPath, git.Options{})
	if err != nil {
		return err
	}
	root, err := repoRoot(local.Root(), repoPath)
	if err != nil {
		return err
	}
	base, err := revisionTree(local, f.base)
	if err != nil {
		return err
	}
	head, err := revisionTree(local, f.head)
	if err != nil {
		return err
	}
	opts := review.DefaultOptions()
	opts.Root = root
	opts.ManageKeyspaces = f.manageKeyspaces
	doc, err := review.Compare(ctx, base, head, opts)
	if err != nil {
		return err
	}
	var out []byte
	switch f.format {
	case "markdown":
		out = doc.Markdown(review.MarkdownOptions{MaxBytes: f.maxBytes})
	case "json":
		out = doc.JSON()
	default:
		out = doc.Text()
	}
	if _, err := stdout.Write(out); err != nil {
		return err
	}
	return planExit(doc.Outcome)
}

// planExit maps a plan's outcome to the exit status.
func planExit(o review.Outcome) error {
	switch o {
	case review.Changes:
		return &exitError{code: ExitChanges}
	case review.Invalid:
		return &exitError{code: ExitInvalid}
	}
	return nil
}

// revisionTree reads one revision of the repository.
func revisionTree(local *git.Local, rev string) (review.Tree, error) {
	snap, err := local.Snapshot(rev)
	if err != nil {
		return review.Tree{}, err
	}
	return review.Tree{Revision: review.Revision{Name: rev, Commit: snap.Revision.Hash}, FS: snap.FS}, nil
}

// repoRoot is repoPath as a slash path relative to the repository's root.
func repoRoot(root, repoPath string) (string, error) {
	abs, err := filepath.Abs(repoPath)
	if err != nil {
		return "", err
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	if r, err := filepath.EvalSymlinks(root); err == nil {
		root = r
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s: not inside the repository %s", repoPath, root)
	}
	return filepath.ToSlash(rel), nil
}
