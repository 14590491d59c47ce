package cassandra

import (
	"slices"
	"sort"
	"sync/atomic"
	"time"
)

// status is the gossip STATUS a node announces about itself.
type status int

const (
	statusBoot    status = iota + 1 // bootstrapping (JOINING)
	statusNormal                    // a ring member
	statusLeaving                   // decommissioning
	statusLeft                      // decommissioned: others drop it
	statusRemoved                   // removed by removeNode: others drop it
	// statusBootReplace: replacing the dead node at another address
	// (BOOT_REPLACE): a ring member with its own host ID, live, not in
	// JoiningNodes (replace tokens are not bootstrap tokens).
	statusBootReplace
	// statusHibernate: replacing the dead node at its own address, with
	// its host ID: the others keep that node down until it is NORMAL.
	statusHibernate
	// statusRemoving: a dead node removeNode is removing: LeavingNodes.
	statusRemoving
)

func (s status) String() string {
	switch s {
	case statusBoot:
		return "BOOT"
	case statusNormal:
		return "NORMAL"
	case statusLeaving:
		return "LEAVING"
	case statusLeft:
		return "LEFT"
	case statusRemoved:
		return "REMOVED"
	case statusBootReplace:
		return "BOOT_REPLACE"
	case statusHibernate:
		return "hibernate"
	case statusRemoving:
		return "removing"
	}
	return "UNKNOWN"
}

// member reports whether a node with this status is in the ring (token
// metadata): shown in EndpointToHostId, Live/Unreachable nodes and so on.
func (s status) member() bool {
	return s == statusBoot || s == statusNormal || s == statusLeaving ||
		s == statusBootReplace || s == statusHibernate || s == statusRemoving
}

// endpoint is one node's gossip state as some view knows it. Views hold
// copies; an endpoint value is never shared between two views.
type endpoint struct {
	hostID, addr string
	dc, rack     string
	schema       string
	release      string
	tokens       []string
	status       status
	shutdown     bool  // announced a graceful shutdown
	gen, ver     int64 // generation (process start) and version
}

// newer reports whether e supersedes o (gossip's generation/version order).
func (e *endpoint) newer(o *endpoint) bool {
	return e.gen > o.gen || (e.gen == o.gen && e.ver > o.ver)
}

func (e *endpoint) clone() *endpoint {
	c := *e
	c.tokens = slices.Clone(e.tokens)
	return &c
}

// liveness is the failure detector's opinion of a peer.
type liveness int

const (
	livePending liveness = iota // learnt through gossip, not contacted yet
	liveUp
	liveDown
)

// view is what one node knows of the ring, keyed by host ID.
type view struct {
	eps map[string]*endpoint
	fd  map[string]liveness
	// rev stamps the content of eps; stamps are unique across views, so an
	// unchanged stamp means nothing new to learn from that view.
	rev int64
	// seen is the stamp of each peer's view (by host ID) last merged.
	seen map[string]int64
	// byAddr indexes the members by address, as of stamp indexed.
	byAddr  map[string][]string
	indexed int64
	// downSince is when a member was last seen going down.
	downSince map[string]time.Time
	// quarantine holds the last state of evicted endpoints: gossip does not
	// bring back a state that is not newer.
	quarantine map[string]*endpoint
	// leftUnseen holds the endpoints this view first learned already LEFT
	// (it never knew them as ring members): a real 5.0 node keeps their
	// LOAD (LoadMap) but never lists them unreachable, whereas a node that
	// saw one leave lists it unreachable once it is silent and drops its
	// load (both seen on real nodes: test/env's conformance test).
	leftUnseen map[string]bool
}

// revs hands out view stamps.
var revs atomic.Int64

func newView() *view {
	return &view{
		eps: map[string]*endpoint{}, fd: map[string]liveness{}, seen: map[string]int64{},
		downSince: map[string]time.Time{}, quarantine: map[string]*endpoint{}, leftUnseen: map[string]bool{},
		rev: revs.Add(1),
	}
}

// changed records a change of eps.
func (v *view) changed() { v.rev = revs.Add(1) }

// mark sets the failure detector's opinion of a member.
func (v *view) mark(id string, l liveness) {
	if l == liveDown && v.fd[id] != liveDown {
		v.downSince[id] = time.Now()
	}
	v.fd[id] = l
}

// forget drops an endpoint from the view.
func (v *view) forget(id string) {
	delete(v.eps, id)
	delete(v.leftUnseen, id)
	delete(v.fd, id)
	delete(v.downSince, id)
	v.changed()
}

// evictFatClients drops the endpoints that are down while bootstrapping for
// longer than timeout: they own no tokens, and Cassandra's gossiper evicts
// such "fat clients" (and quarantines them).
func (v *view) evictFatClients(timeout time.Duration, now time.Time) {
	for id, e := range v.eps {
		if e.status == statusBoot && v.fd[id] == liveDown && now.Sub(v.downSince[id]) > timeout {
			v.quarantine[id] = e
			v.forget(id)
		}
	}
}

// learn merges a peer's copy of an endpoint; self is never overwritten.
func (v *view) learn(self string, e *endpoint) {
	if e.hostID == self {
		return
	}
	if cur, ok := v.eps[e.hostID]; ok && !e.newer(cur) {
		return
	}
	if q, ok := v.quarantine[e.hostID]; ok && !e.newer(q) {
		return
	}
	delete(v.quarantine, e.hostID)
	_, known := v.eps[e.hostID]
	switch {
	case e.status != statusLeft:
		delete(v.leftUnseen, e.hostID)
	case !known:
		v.leftUnseen[e.hostID] = true
	}
	v.eps[e.hostID] = e.clone()
	v.changed()
	switch {
	case !e.status.member():
		delete(v.fd, e.hostID)
	case e.shutdown:
		v.mark(e.hostID, liveDown)
	default:
		if _, known := v.fd[e.hostID]; !known {
			v.fd[e.hostID] = livePending
		}
	}
}

// merge takes from o (the view of peer) every endpoint state newer than
// v's; it skips a view unchanged since the last merge.
func (v *view) merge(self, peer string, o *view) {
	if v.seen[peer] == o.rev {
		return
	}
	for _, e := range o.eps {
		v.learn(self, e)
	}
	v.seen[peer] = o.rev
}

// markAddr records the outcome of contacting addr: the host found there
// (reachedID, "" when none answered) is up, any other member last known at
// that address is down.
func (v *view) markAddr(self, addr, reachedID string) {
	for _, id := range v.index()[addr] {
		if id == self {
			continue
		}
		if id == reachedID && v.eps[id].status != statusHibernate {
			v.mark(id, liveUp)
		} else {
			v.mark(id, liveDown)
		}
	}
	if reachedID != "" {
		if e, ok := v.eps[reachedID]; ok && e.status.member() && e.status != statusHibernate {
			v.mark(reachedID, liveUp) // a hibernating node stays down (a dead state)
		}
	}
}

// index returns the members by address, rebuilt when eps changed.
func (v *view) index() map[string][]string {
	if v.byAddr != nil && v.indexed == v.rev {
		return v.byAddr
	}
	v.byAddr = map[string][]string{}
	for id, e := range v.eps {
		if e.status.member() {
			v.byAddr[e.addr] = append(v.byAddr[e.addr], id)
		}
	}
	v.indexed = v.rev
	return v.byAddr
}

// members returns the ring members of the view (self included when it is a
// member), sorted by address.
func (v *view) members() []*endpoint {
	var out []*endpoint
	for _, e := range v.eps {
		if e.status.member() {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

// targets returns the addresses a gossip round tries: every member other
// than self.
func (v *view) targets(self string) []string {
	var out []string
	for id, e := range v.eps {
		if id != self && e.status.member() {
			out = append(out, e.addr)
		}
	}
	return out
}
