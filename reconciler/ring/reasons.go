package ring

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// assessSchema compares the schema versions the nodes report of
// themselves: more than one is a SchemaDisagreement naming the nodes on
// other versions than the most common one (ties: the smallest version
// wins). A node that reported none is left out.
func (a *assessment) assessSchema() {
	onVersion := map[string][]NodeRef{} // version -> the nodes on it
	var all []string
	for _, v := range a.viewers {
		if ver := v.view.SchemaVersion; ver != "" {
			all = append(all, v.node.Pod)
			onVersion[ver] = append(onVersion[ver], NodeRef{Pod: v.node.Pod, Address: NormalizeEndpoint(v.node.IP)})
		}
	}
	if len(onVersion) < 2 {
		return
	}
	versions := slices.Sorted(maps.Keys(onVersion))
	sort.SliceStable(versions, func(i, j int) bool { return len(onVersion[versions[i]]) > len(onVersion[versions[j]]) })
	var minority []NodeRef
	details := make([]string, len(versions))
	for i, ver := range versions {
		details[i] = fmt.Sprintf("%s on %s", ver, plural(len(onVersion[ver]), "node"))
		if i > 0 {
			minority = append(minority, onVersion[ver]...)
		}
	}
	a.reasons = append(a.reasons, Reason{Kind: SchemaDisagreement, Nodes: minority, SeenBy: all, Detail: strings.Join(details, ", ")})
}

// assessHostIDs reports endpoints that views give different host IDs.
func (a *assessment) assessHostIDs() {
	first := map[string]string{}
	var conflicted []string
	for _, v := range a.viewers {
		for ep, id := range v.view.HostIDs {
			ep = a.canon(ep)
			if f, ok := first[ep]; !ok {
				first[ep] = id
			} else if f != id && !slices.Contains(conflicted, ep) {
				conflicted = append(conflicted, ep)
			}
		}
	}
	slices.Sort(conflicted)
	for _, ep := range conflicted {
		a.hostIDConflict(ep)
	}
}

func (a *assessment) hostIDConflict(ep string) {
	ids := map[string][]string{} // host ID -> views
	for _, v := range a.viewers {
		for e, id := range v.view.HostIDs {
			if NormalizeEndpoint(e) == ep {
				ids[id] = append(ids[id], v.node.Pod)
			}
		}
	}
	var seenBy, details []string
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		seenBy = append(seenBy, ids[id]...)
		details = append(details, id+" according to "+joinNames(ids[id]))
	}
	a.add(HostIDConflict, a.ref(ep), a.sortPods(seenBy), strings.Join(details, "; "))
}

// sortPods sorts pod names in the order of the views.
func (a *assessment) sortPods(pods []string) []string {
	order := make(map[string]int, len(a.viewers))
	for i, v := range a.viewers {
		order[v.node.Pod] = i
	}
	sort.SliceStable(pods, func(i, j int) bool { return order[pods[i]] < order[pods[j]] })
	return pods
}

// mergeReasons merges the reasons that differ only in their nodes, then
// sorts them by kind, nodes and detail.
func mergeReasons(in []Reason) []Reason {
	index := map[string]int{}
	var out []Reason
	for _, r := range in {
		key := r.Kind.String() + "\x00" + strings.Join(r.SeenBy, ",") + "\x00" + r.Detail
		if i, ok := index[key]; ok && r.Kind != SchemaDisagreement {
			out[i].Nodes = append(out[i].Nodes, r.Nodes...)
			continue
		}
		index[key] = len(out)
		out = append(out, r)
	}
	for i := range out {
		sort.SliceStable(out[i].Nodes, func(x, y int) bool { return refLess(out[i].Nodes[x], out[i].Nodes[y]) })
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if len(a.Nodes) > 0 && len(b.Nodes) > 0 && a.Nodes[0] != b.Nodes[0] {
			return refLess(a.Nodes[0], b.Nodes[0])
		}
		return a.Detail < b.Detail
	})
	return out
}

// refLess orders pods by StatefulSet and ordinal, then unknown endpoints
// by address.
func refLess(a, b NodeRef) bool {
	if (a.Pod == "") != (b.Pod == "") {
		return a.Pod != ""
	}
	sa, oa := splitOrdinal(a.Pod)
	sb, ob := splitOrdinal(b.Pod)
	if sa != sb {
		return sa < sb
	}
	if oa != ob {
		return oa < ob
	}
	return a.Address < b.Address
}

func splitOrdinal(pod string) (string, int) {
	i := strings.LastIndexByte(pod, '-')
	if i < 0 {
		return pod, -1
	}
	o, err := strconv.Atoi(pod[i+1:])
	if err != nil {
		return pod, -1
	}
	return pod[:i], o
}

// String is the reason in one sentence, e.g. "NodeDown: orders-dc2-r1-0
// (10.0.2.1) is down according to orders-dc1-r1-0, orders-dc1-r2-0".
func (r Reason) String() string {
	refs := make([]string, len(r.Nodes))
	for i, n := range r.Nodes {
		refs[i] = n.String()
	}
	nodes, by := joinNames(refs), joinNames(r.SeenBy)
	is := "is"
	if len(r.Nodes) > 1 {
		is = "are"
	}
	var s string
	switch r.Kind {
	case NotQueried:
		s = fmt.Sprintf("%s could not be queried: %s", nodes, r.Detail)
	case NodeDown:
		s = fmt.Sprintf("%s %s down according to %s", nodes, is, by)
	case Unreachable:
		s = fmt.Sprintf("%s cannot see %s (other nodes can)", by, nodes)
	case NotInRing:
		s = fmt.Sprintf("%s %s not in the ring of %s", nodes, is, by)
	case UnknownNode:
		s = fmt.Sprintf("%s %s in the ring of %s but not expected", nodes, is, by)
	case NodeJoining, NodeLeaving, NodeMoving:
		s = fmt.Sprintf("%s %s %s according to %s", nodes, is, strings.ToLower(strings.TrimPrefix(r.Kind.String(), "Node")), by)
	case NotNormal:
		s = fmt.Sprintf("%s %s in operation mode %s", nodes, is, r.Detail)
	case NotServing:
		s = fmt.Sprintf("%s %s NORMAL but not serving clients (native transport not running)", nodes, is)
	case SchemaDisagreement:
		s = fmt.Sprintf("%s %s on another schema version than the other nodes (%s)", nodes, is, r.Detail)
	case HostIDConflict:
		s = fmt.Sprintf("%s has different host IDs: %s", nodes, r.Detail)
	default:
		s = fmt.Sprintf("%s: %s", nodes, r.Detail)
	}
	return r.Kind.String() + ": " + s
}

// String is the verdict in one line: "healthy", or "unhealthy: " and the
// first reason, with the number of further reasons.
func (r Result) String() string {
	if r.Healthy {
		s := fmt.Sprintf("healthy: %s Up and Normal in every view", plural(len(r.Nodes), "node"))
		if r.Partial {
			s += " (partial: only some regions were queried)"
		}
		return s
	}
	if len(r.Reasons) == 0 {
		return "unhealthy"
	}
	s := "unhealthy: " + r.Reasons[0].String()
	if len(r.Reasons) > 1 {
		s += fmt.Sprintf(" (and %s)", plural(len(r.Reasons)-1, "more reason"))
	}
	return s
}

// joinNames lists names for a message, eliding after twelve.
func joinNames(l []string) string {
	const max = 12
	if len(l) <= max {
		return strings.Join(l, ", ")
	}
	return strings.Join(l[:max], ", ") + fmt.Sprintf(" and %d more", len(l)-max)
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
