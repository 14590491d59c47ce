// Package git is ringops' Git source: it watches one branch (or tag) of one
// repository through go-git and hands the reconciler read-only snapshots of
// the tree at each new revision.
//
// It owns the cheap "did the branch move?" check (an in-memory ls-remote),
// the shallow fetch (depth 1) of exactly the ref that moved, the in-memory
// tree the renderer reads (an fs.FS that cannot escape the tree, with size
// limits), authentication (SSH with a mandatory known_hosts, HTTPS with a
// token as basic-auth password or bearer, custom CA) and optional commit
// signature verification (OpenPGP and SSH "sshsig" keys); the forges'
// webhooks, which end in Poller.Trigger, are sources/forge's. Besides the
// watched ref, Poller.Refs lists the refs matching glob patterns in one
// advertisement (pull-request heads such as refs/pull/*/head) and
// Poller.Fetch reads any one of them, without touching the poll state.
//
// The poll state machine, one step per tick (Poller.Poll):
//
//	ls-remote ── error ──────────────────────────▶ Failed    (typed error, last good snapshot kept, backoff)
//	    │ head == last seen ─────────────────────▶ Unchanged (no fetch, no render)
//	    │ head == last refused ──────────────────▶ Refused   (same error again, no fetch)
//	    ▼
//	fetch depth 1 + tree ── error ───────────────▶ Failed
//	    │ too large / signature refused ─────────▶ Refused   (revision remembered as refused)
//	    ▼
//	Changed: the snapshot becomes current, its revision the last seen
//
// A force-push to an older commit is just a head that differs from the last
// seen one, so it is handled like any other change. Poller.Run repeats Poll
// every Interval (+ random jitter), after Failed waits an exponential backoff
// instead, and polls at once when Trigger is called (by a forge's webhook).
package git
