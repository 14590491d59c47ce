// Package leader lets several replicas of `ringops run` share the work:
// only the holder of a Lease acts (client-go leader election), and a
// standby that receives a webhook relays it to the holder through a second
// Lease, <name>-webhook. It knows nothing of the daemon: Run takes the
// function to run while leading and the source to poke on a relayed
// webhook, and cmd wires the flags to Options.
//
//	campaign ── Lease taken ──▶ leading: act(ctx) runs, the webhook Lease is watched
//	    │                          │ ctx ends: act returns (its step finished),
//	    │                          │           then the Lease is released (the standby takes over at once)
//	    │                          │ Lease lost: act's ctx ends, Run returns ErrLost (the process
//	    │                          ▼           restarts as a standby)
//	    ▼                        released
//	standby: Relay touches <name>-webhook; the leader's watch sees its
//	         renewTime move and triggers a poll
package leader
