// Package forge owns the commit statuses ringops posts on the forge the
// users already work in: one context per cluster and region
// ("ringops/<cluster>/<region>"), "ringops/plan" on pull-request heads and
// "ringops" for the revision as a whole.
//
// It holds the domain (State, Status, the context names, descriptions made
// one line and cut to the forge's limit, Summary of the regions), the
// Client interface every forge implements in its own subpackage (github,
// gitlab, gitea for Gitea and Forgejo, bitbucket for Cloud and Data
// Center; provider picks one from the repository URL, ResolveTarget), the
// tokens (read from a file or a variable at each request, never printed),
// and the Queue every status goes through.
//
// It also receives the forges' webhooks: each forge package has a Webhook
// beside its Client (how a delivery names its event, proves it is the
// forge's, what its events mean), provider lists them, and the
// WebhookHandler turns a verified push of the watched ref (or, with pull
// requests, any push or pull-request event) into an immediate poll.
//
// The Queue is the Reporter the daemon calls, once per event: Report(pending
// with the current step) on pickup and at each step or wait, Report(success)
// when the region is done and healthy, Report(failure) on validation errors
// and gate timeouts, Supersede when a newer revision takes over. Report
// never blocks; Run posts:
//
//	Report ─▶ cleaned, truncated ─▶ same as the forge shows? ── yes ─▶ dropped (Deduped)
//	                                   │ no
//	                                   ▼
//	        context queue: the waiting progress is replaced by the newer one
//	        (Coalesced); terminal states are kept, in order
//	                                   │ Run: when the context's window (MinInterval)
//	                                   │ and the forge's wait (backoff, rate limit) allow
//	                                   ▼
//	        first status of a revision? ─▶ Latest: what the forge already shows
//	        Post ── ok, already posted ─▶ the forge shows it
//	             ── 5xx, 409, network, rate limit ─▶ kept; the forge waits
//	                (1s doubling to 5m, or Retry-After / the rate-limit reset)
//	             ── 401, 404, 422, 400 ─▶ dropped, logged
//
// A forge that is down never stops a rollout: statuses wait in memory, the
// latest per context, and are posted when it is back.
package forge
