package ring

import (
	"errors"
	"maps"
	"slices"
	"sort"
)

// Expected is what the ring should be. plan.RingExpected builds it, for
// the engine and `ringops status` alike: the nodes below each live
// StatefulSet's replicas, the cluster's other pods as Extra.
type Expected struct {
	// Nodes should each be in the ring, Up and Normal, in every view.
	Nodes []Node
	// Extra are pods that exist but are not expected (above the spec's
	// count, being decommissioned): they only name their endpoints in
	// reasons. Their views are not assessed, and their presence in the
	// ring is still an UnknownNode.
	Extra []Node
	// Partial says that only some regions were observed: endpoints that no
	// expected node has may be nodes of the others, so they are not judged
	// (no UnknownNode), and the verdict holds for the expected nodes only.
	Partial bool
}

// Result is the verdict on a ring.
type Result struct {
	// Healthy is true when there is no reason.
	Healthy bool `json:"healthy"`
	// Partial is Expected.Partial: the verdict covers the expected nodes only.
	Partial bool `json:"partial,omitempty"`
	// Reasons are sorted by kind, then by the nodes concerned.
	Reasons []Reason `json:"reasons"`
	// Nodes are the expected nodes, then the unknown endpoints, each sorted
	// by datacenter, rack, ordinal (unknown endpoints by address).
	Nodes []NodeStatus `json:"nodes"`
}

// NodeRef names a node in a reason: its pod, its address or both.
type NodeRef struct {
	Pod     string `json:"pod,omitempty"`
	Address string `json:"address,omitempty"`
}

func (r NodeRef) String() string {
	switch {
	case r.Pod == "":
		return r.Address
	case r.Address == "":
		return r.Pod
	}
	return r.Pod + " (" + r.Address + ")"
}

// Reason is one thing that makes a ring unhealthy: what (Kind), about whom
// (Nodes), according to which views (SeenBy: pods whose view shows it).
// Reasons that differ only in their nodes are merged into one.
type Reason struct {
	Kind   ReasonKind `json:"kind"`
	Nodes  []NodeRef  `json:"nodes,omitempty"`
	SeenBy []string   `json:"seenBy,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

// NodeStatus is one node's line in `ringops status`.
type NodeStatus struct {
	Node Node `json:"node"`
	// Expected is false for an endpoint that no expected node has.
	Expected bool      `json:"expected"`
	State    NodeState `json:"state"`
	HostID   string    `json:"hostID,omitempty"`
	Load     string    `json:"load,omitempty"`
	// Mode is the node's own operation mode, "" when it was not queried.
	Mode OperationMode `json:"mode,omitempty"`
	// NativeTransportRunning, SchemaVersion and ReleaseVersion are what the
	// node says of itself (zero when it was not queried).
	NativeTransportRunning bool   `json:"nativeTransportRunning,omitempty"`
	SchemaVersion          string `json:"schemaVersion,omitempty"`
	ReleaseVersion         string `json:"releaseVersion,omitempty"`
	// DownFrom are the pods whose view has the node unreachable.
	DownFrom []string `json:"downFrom,omitempty"`
	// Error is why the node's own view is missing.
	Error string `json:"error,omitempty"`
}

// Assess judges a snapshot against what is expected. It is a pure function:
// it reads nothing but its arguments.
//
// The views assessed are those of the expected nodes that answered. The ring
// is healthy when there is no reason, that is when:
//
//   - every expected node answered (else NotQueried, with its error);
//   - every view has every expected node in LiveNodes. A node in some
//     view's UnreachableNodes is NodeDown if no other view has it live, and
//     Unreachable (a partition, naming who cannot see it) if some do; a node
//     in neither list of a view is NotInRing for that view;
//   - no view lists an expected node as joining, leaving or moving, and each
//     node's own OperationMode is NORMAL (JOINING, LEAVING and MOVING count
//     as NodeJoining, NodeLeaving, NodeMoving; any other mode is NotNormal);
//   - each NORMAL node serves clients: its native transport runs (else
//     NotServing);
//   - every endpoint in any view's LiveNodes, UnreachableNodes, Joining/
//     Leaving/MovingNodes or EndpointToHostId is an expected node (else
//     UnknownNode; not judged when Expected.Partial);
//   - the nodes report one schema version of themselves (else
//     SchemaDisagreement, naming the nodes on the less common versions);
//   - all views give each endpoint the same host ID (else HostIDConflict).
//
// A node's state is Down if any view has it unreachable, else Up if any view
// (its own included) has it live, else unknown; it is Leaving, Joining or
// Moving if any view lists it so or its own mode says so, else Normal.
func Assess(s *Snapshot, expected Expected) Result {
	a := newAssessment(s, expected)
	for _, n := range a.expected {
		a.assessNode(n)
	}
	if !expected.Partial {
		a.assessUnknown()
	}
	a.assessSchema()
	a.assessHostIDs()
	reasons := mergeReasons(a.reasons)
	return Result{Healthy: len(reasons) == 0, Partial: expected.Partial, Reasons: reasons, Nodes: a.statuses}
}

// flags say in which lists of a view an endpoint is.
type flags uint8

const (
	fLive flags = 1 << iota
	fUnreachable
	fJoining
	fLeaving
	fMoving
	fHostID
)

// viewer is the view of one expected node; flags[i] says where endpoint
// number i (assessment.index) is in it.
type viewer struct {
	node  Node
	view  *View
	flags []flags
}

type assessment struct {
	expected []Node
	entries  map[string]Entry // by pod
	viewers  []viewer         // sorted by node
	names    map[string]Node  // endpoint -> the expected or extra pod at that address
	index    map[string]int   // endpoint -> its number, for every endpoint of every view
	reasons  []Reason
	statuses []NodeStatus
}

func newAssessment(s *Snapshot, exp Expected) *assessment {
	a := &assessment{
		expected: slices.Clone(exp.Nodes),
		entries:  map[string]Entry{},
		names:    map[string]Node{},
	}
	sort.SliceStable(a.expected, func(i, j int) bool { return nodeLess(a.expected[i], a.expected[j]) })
	for _, n := range exp.Extra {
		if n.IP != "" {
			a.names[NormalizeEndpoint(n.IP)] = n
		}
	}
	for _, n := range a.expected {
		if n.IP != "" {
			a.names[NormalizeEndpoint(n.IP)] = n
		}
	}
	if s != nil {
		for _, e := range s.Entries {
			a.entries[e.Node.Pod] = e
		}
	}
	for _, n := range a.expected {
		if e, ok := a.entries[n.Pod]; ok && e.View != nil && e.Err == nil {
			a.viewers = append(a.viewers, viewer{node: n, view: e.View})
		}
	}
	a.indexViews()
	return a
}

// indexViews numbers every endpoint of every view and records, per view,
// in which lists each one is.
func (a *assessment) indexViews() {
	a.index = map[string]int{}
	for _, vw := range a.viewers {
		eachEndpoint(vw.view, func(ep string, _ flags) { a.number(ep) })
	}
	for i := range a.viewers {
		fl := make([]flags, len(a.index))
		eachEndpoint(a.viewers[i].view, func(ep string, f flags) { fl[a.index[a.canon(ep)]] |= f })
		a.viewers[i].flags = fl
	}
}

// eachEndpoint calls f for every endpoint of every list of v.
func eachEndpoint(v *View, f func(ep string, in flags)) {
	for _, l := range []struct {
		eps []string
		f   flags
	}{{v.Live, fLive}, {v.Unreachable, fUnreachable}, {v.Joining, fJoining}, {v.Leaving, fLeaving}, {v.Moving, fMoving}} {
		for _, ep := range l.eps {
			f(ep, l.f)
		}
	}
	for ep := range v.HostIDs {
		f(ep, fHostID)
	}
}

// number returns an endpoint's normalised form, numbering it if new.
func (a *assessment) number(ep string) string {
	ep = a.canon(ep)
	if _, ok := a.index[ep]; !ok {
		a.index[ep] = len(a.index)
	}
	return ep
}

// canon is NormalizeEndpoint, short-cut for endpoints numbered already
// (the index holds only normalised forms).
func (a *assessment) canon(ep string) string {
	if _, ok := a.index[ep]; ok {
		return ep
	}
	return NormalizeEndpoint(ep)
}

// flagsOf says where an endpoint is in a view.
func (a *assessment) flagsOf(v *viewer, ep string) flags {
	if i, ok := a.index[ep]; ok {
		return v.flags[i]
	}
	return 0
}

func (a *assessment) add(kind ReasonKind, n NodeRef, seenBy []string, detail string) {
	a.reasons = append(a.reasons, Reason{Kind: kind, Nodes: []NodeRef{n}, SeenBy: seenBy, Detail: detail})
}

func (a *assessment) ref(ep string) NodeRef {
	if n, ok := a.names[ep]; ok {
		return NodeRef{Pod: n.Pod, Address: ep}
	}
	return NodeRef{Address: ep}
}

// assessNode judges one expected node and records its status.
func (a *assessment) assessNode(n Node) {
	st := NodeStatus{Node: n, Expected: true}
	e, queried := a.entries[n.Pod]
	switch {
	case !queried:
		st.Error = ErrNotQueried.Error()
	case e.Err != nil:
		st.Error = describeErr(e.Err)
	case e.View == nil:
		st.Error = ErrNotQueried.Error()
	default:
		st.Mode = e.View.Mode
		st.NativeTransportRunning = e.View.NativeTransportRunning
		st.SchemaVersion, st.ReleaseVersion = e.View.SchemaVersion, e.View.ReleaseVersion
	}
	ref := NodeRef{Pod: n.Pod, Address: n.IP}
	if st.Error != "" {
		a.add(NotQueried, ref, nil, st.Error)
	}
	if n.IP != "" {
		ep := NormalizeEndpoint(n.IP)
		s := a.look(ep, n.Pod, st.Mode)
		a.judge(ref, s)
		st.State, st.DownFrom = s.state(st.Mode), s.down
		st.HostID, st.Load = a.hostIDAndLoad(ep, n.Pod)
	}
	if st.Mode != "" && !knownActivity(st.Mode) {
		a.add(NotNormal, ref, []string{n.Pod}, string(st.Mode))
	}
	if st.Mode == ModeNormal && !st.NativeTransportRunning {
		a.add(NotServing, ref, []string{n.Pod}, "")
	}
	a.statuses = append(a.statuses, st)
}

// knownActivity reports whether a mode is NORMAL or one of the activities
// that NodeJoining, NodeLeaving and NodeMoving report.
func knownActivity(m OperationMode) bool {
	return m == ModeNormal || m == ModeJoining || m == ModeLeaving || m == ModeMoving
}

// sight is how the views see one endpoint: the pods whose view has it
// down, absent, joining, leaving or moving, and how many have it up.
type sight struct {
	down, missing            []string
	joining, leaving, moving []string
	up, upOthers             int
}

// look classifies an endpoint in every view. pod is the node's own pod (""
// for an unknown endpoint) and self the mode it reports ("" if unknown).
func (a *assessment) look(ep, pod string, self OperationMode) sight {
	var s sight
	for i := range a.viewers {
		v := &a.viewers[i]
		f, isSelf := a.flagsOf(v, ep), pod != "" && v.node.Pod == pod
		switch {
		case f&fUnreachable != 0:
			s.down = append(s.down, v.node.Pod)
		case f&fLive != 0:
			s.up++
			if !isSelf {
				s.upOthers++
			}
		default:
			s.missing = append(s.missing, v.node.Pod)
		}
		s.joining = appendIf(s.joining, f&fJoining != 0 || (isSelf && self == ModeJoining), v.node.Pod)
		s.leaving = appendIf(s.leaving, f&fLeaving != 0 || (isSelf && self == ModeLeaving), v.node.Pod)
		s.moving = appendIf(s.moving, f&fMoving != 0 || (isSelf && self == ModeMoving), v.node.Pod)
	}
	return s
}

// judge records what is wrong with an expected node seen this way.
func (a *assessment) judge(ref NodeRef, s sight) {
	a.addIf(len(s.down) > 0 && s.upOthers == 0, NodeDown, ref, s.down)
	a.addIf(len(s.down) > 0 && s.upOthers > 0, Unreachable, ref, s.down)
	a.addIf(len(s.missing) > 0, NotInRing, ref, s.missing)
	a.addIf(len(s.joining) > 0, NodeJoining, ref, s.joining)
	a.addIf(len(s.leaving) > 0, NodeLeaving, ref, s.leaving)
	a.addIf(len(s.moving) > 0, NodeMoving, ref, s.moving)
}

// state is the node's state seen this way; self is its own mode.
func (s sight) state(self OperationMode) NodeState {
	if len(s.down) == 0 && s.up == 0 {
		return StateUnknown
	}
	act := actNormal
	switch {
	case len(s.leaving) > 0 || self == ModeDecommissioned:
		act = actLeaving
	case len(s.joining) > 0:
		act = actJoining
	case len(s.moving) > 0:
		act = actMoving
	}
	return makeState(len(s.down) > 0, act)
}

func (a *assessment) addIf(cond bool, kind ReasonKind, ref NodeRef, seenBy []string) {
	if cond {
		a.add(kind, ref, seenBy, "")
	}
}

func appendIf(l []string, cond bool, s string) []string {
	if cond {
		return append(l, s)
	}
	return l
}

// hostIDAndLoad returns an endpoint's host ID and load, from its own view
// (pod) when it has them, else from the first view that does.
func (a *assessment) hostIDAndLoad(ep, pod string) (hostID, load string) {
	for _, v := range a.viewers {
		if v.node.Pod == pod {
			hostID, load = v.view.HostIDs[ep], v.view.Load[ep]
			break
		}
	}
	for _, v := range a.viewers {
		if hostID != "" && load != "" {
			break
		}
		if hostID == "" {
			hostID = v.view.HostIDs[ep]
		}
		if load == "" {
			load = v.view.Load[ep]
		}
	}
	return hostID, load
}

// memberFlags are the lists that make an endpoint a ring member: a host
// ID, or a range movement. Live and Unreachable alone do not: gossip also
// lists nodes that own no tokens. A decommissioned node stays in the other
// nodes' gossip, LEFT, for three days, and their failure detectors put it
// back in UnreachableNodes once it stops (Gossiper: removeEndpoint keeps the
// endpoint state, convict marks it dead); a node starting up is in
// LiveNodes before it announces itself. nodetool status shows neither, and
// neither holds data.
const memberFlags = fHostID | fJoining | fLeaving | fMoving

// assessUnknown reports the endpoints of the views' rings that are no
// expected node, and adds a status line for each. An endpoint that no view
// holds as a member (memberFlags) is only gossip, and is left out.
func (a *assessment) assessUnknown() {
	expectedIPs := map[string]bool{}
	for _, n := range a.expected {
		if n.IP != "" {
			expectedIPs[NormalizeEndpoint(n.IP)] = true
		}
	}
	seen := map[string][]string{}
	for ep, i := range a.index {
		if expectedIPs[ep] {
			continue
		}
		member := false
		for _, v := range a.viewers {
			member = member || v.flags[i]&memberFlags != 0
		}
		if !member {
			continue
		}
		for _, v := range a.viewers {
			if v.flags[i] != 0 {
				seen[ep] = append(seen[ep], v.node.Pod)
			}
		}
	}
	for _, ep := range slices.Sorted(maps.Keys(seen)) {
		ref := a.ref(ep)
		a.add(UnknownNode, ref, seen[ep], "")
		n := a.names[ep]
		n.IP = ep
		st := NodeStatus{Node: n}
		s := a.look(ep, "", "")
		st.State, st.DownFrom = s.state(""), s.down
		st.HostID, st.Load = a.hostIDAndLoad(ep, "")
		a.statuses = append(a.statuses, st)
	}
}

// describeErr is an error without the node prefix of a *NodeError (the
// reason names the node already).
func describeErr(err error) string {
	var ne *NodeError
	if errors.As(err, &ne) {
		return ne.Op + ": " + ne.Err.Error()
	}
	return err.Error()
}
