// Package pullrequests validates the heads of open pull requests (merge
// requests) against the watched branch and posts the verdict as the
// "ringops/plan" commit status on each head: what merging it would do to
// every cluster (review.Compare), or why it is refused. It never applies
// anything and needs no cluster.
//
// It owns the choice of the heads, the bounds on the work, and the memory
// of what was checked. The daemon calls Checker.Check after each poll of
// the watched branch, with the branch's current snapshot as the base:
//
//	Refs(patterns) ── error ──────────────────────────▶ error returned, nothing reported
//	    │ one ref advertisement; heads no longer advertised are forgotten
//	    ▼
//	per head: head == base commit, or (head, base) already checked ─▶ skipped
//	    │ the others, in order: new or moved heads, then heads whose
//	    │ base moved, then retries of failed heads; within each, newest
//	    │ pull request (highest number) first; at most MaxPerCheck
//	    ▼
//	Fetch(ref), depth 1, in memory ── error ──▶ "error" (retried by a later Check,
//	    │                                        unless the head was refused: size limits)
//	    ▼
//	never checked since a restart, and the forge shows a ringops/plan
//	status starting with RefusedPrefix ─────────▶ skipped for good (Options.Statuses)
//	    ▼
//	Planner.Plan(base, head) ── ErrLimits ─────▶ "failure" starting with RefusedPrefix:
//	    │                                        never planned again
//	    │ review.Compare: Invalid ─────────────▶ "failure": the first refusal (and the count)
//	    │ NoChange, Changes ───────────────────▶ "success": the plan's summary
//	    ▼
//	(head, base) remembered (at most MaxRemembered heads, the least
//	recently checked forgotten first)
//
// A head is untrusted input (from a fork too). The daemon plans each in a
// child process (Isolated: `ringops check-pull-request`, fed both trees
// on stdin) whose memory is capped (RLIMIT_DATA, set by the parent and by
// the child before it reads anything, and the Go heap limit below it) and
// which is killed at a timeout: a head that exhausts them crashes the
// child, never the daemon, and is refused with ErrLimits. That refusal
// must outlive the daemon, or every restart would plan the head again:
// its record is the failure status itself, on the head's commit, which
// the forge keeps and a restarted Checker reads (Options.Statuses, one
// API call per head it has not seen) before planning; no other state.
//
// A second Check with nothing new costs one ref advertisement: no fetch,
// no render, no status. The statuses go through a forge.Reporter (the
// forge.Queue), which dedupes them against what the forge shows, so a
// restarted daemon re-checks the heads but posts nothing new.
//
// Heads are found by ref name in the repository's advertisement
// (RefPatterns): GitHub, Gitea and Forgejo keep refs/pull/<n>/head, GitLab
// refs/merge-requests/<n>/head. Bitbucket has none to list: Bitbucket
// Cloud has no pull-request refs, and Bitbucket Server/Data Center keeps
// refs/pull-requests/<n>/from updated only lazily (when someone opens the
// pull request's page) and outside its supported API; New refuses
// Bitbucket unless Options.Patterns says which refs to read.
//
// The forges keep the refs of closed and merged pull requests, so those
// are checked too (once per base revision); MaxPerCheck bounds what each
// Check spends on them, and new or moved heads always come first.
package pullrequests
