// Package page is the daemon's status page: one HTML page, its script and
// its style, embedded in the binary (no CDN, no font from elsewhere), and
// the server-sent events that keep it live.
//
//	GET /                    the page (relative URLs only: it works behind
//	                         a path prefix); read-only, it changes nothing
//	GET /assets/<file>       its script and style
//	GET /api/v1/events       the event stream:
//	    event: source   the Git source and this replica (leader or not)
//	    event: summary  one cluster at a glance (name, revisions, state,
//	                    wait, regions, nodes by state)
//	    event: detail   with ?cluster=<name>: that cluster's ring, steps,
//	                    timeline, steps to come and last revisions
//	    event: gone     a cluster no longer managed
//
// A stream sends everything when it opens, then, at each change of the
// daemon's state (Source.Changed), only the sections that changed since
// it last sent them, at most once per Options.MinInterval. The page and
// its events are guarded like /api/v1 by the caller (cmd/ringops).
package page
