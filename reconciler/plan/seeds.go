package plan

import (
	"maps"
	"slices"
	"strings"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// The seed lists the planner writes (package documentation, "Seeds").

// seedState is what a pass knows of the seeds.
type seedState struct {
	target    []string        // render.Seeds of the revision
	joined    map[string]bool // pods joined and up: NORMAL, in the ring, UN
	effective []string        // the seeds to write; nil when none is known
	first     string          // the pod of the cluster's first node (target[0])
	brandNew  bool            // no node of the cluster has joined the ring
}

// seeds computes the pass's seed state once.
func (v *view) seeds() *seedState {
	if v.seedCache != nil {
		return v.seedCache
	}
	s := &seedState{target: render.Seeds(v.c), joined: map[string]bool{}}
	if len(s.target) > 0 {
		s.first = render.SeedPod(s.target[0])
	}
	for _, r := range v.racks {
		for ord, p := range r.pods {
			name := r.podName(ord)
			if n, ok := v.o.Ring.Nodes[name]; ok && v.o.Ring.Assessed && p.DeletionTimestamp == nil &&
				n.Mode == ring.ModeNormal && n.InRing && n.State == ring.UN {
				s.joined[name] = true
			}
		}
	}
	joined := func(pod string) bool { return s.joined[pod] }
	s.effective = render.SeedsWhere(v.c, joined)
	if len(s.effective) == 0 {
		// No node the spec keeps is up: any joined node will do.
		s.effective = render.SeedsWhere(v.liveTopology(), joined)
	}
	s.brandNew = v.brandNew(s.first)
	if len(s.effective) == 0 && s.brandNew && s.first != "" {
		s.effective = s.target[:1]
	}
	v.seedCache = s
	return s
}

// liveTopology is the spec with each rack's node count raised to its
// live replicas.
func (v *view) liveTopology() *schemas.CassandraCluster {
	c := *v.c
	c.Spec.Datacenters = slices.Clone(c.Spec.Datacenters)
	for i := range c.Spec.Datacenters {
		dc := &c.Spec.Datacenters[i]
		dc.Racks = slices.Clone(dc.Racks)
		for j := range dc.Racks {
			n := int32(0)
			if dc.Racks[j].Nodes != nil {
				n = *dc.Racks[j].Nodes
			}
			if r := v.rackNamed(dc.Context, c.StatefulSetName(dc.Name, dc.Racks[j].Name)); r != nil && r.live != nil {
				n = max(n, r.live.replicas)
			}
			dc.Racks[j].Nodes = &n
		}
	}
	return &c
}

func (v *view) rackNamed(kc, name string) *rack {
	for _, r := range v.racks {
		if r.ctx == kc && r.name == name {
			return r
		}
	}
	return nil
}

// brandNew reports a ring no node of the cluster has joined: every
// context read, no pod Ready, no node in the ring (nor an unknown
// endpoint), no StatefulSet with replicas but the first node's rack, at
// one. Its first node, alone, starts as its own seed.
func (v *view) brandNew(first string) bool {
	if len(v.unreachable()) > 0 {
		return false
	}
	for _, n := range v.o.Ring.Nodes {
		if n.InRing {
			return false
		}
	}
	for _, p := range v.o.Ring.Problems {
		if p.Kind == "UnknownNode" {
			return false
		}
	}
	for _, r := range v.racks {
		for _, p := range r.pods {
			if podReady(p) {
				return false
			}
		}
		if r.live == nil || r.live.replicas == 0 {
			continue
		}
		if r.live.replicas > 1 || r.podName(0) != first {
			return false
		}
	}
	return true
}

// effectiveList is the effective seed list as CASSANDRA_SEEDS, "" when
// none is known (no node joined and up, and the ring not brand-new).
func (v *view) effectiveList() string {
	return strings.Join(v.seeds().effective, ",")
}

// templateFor is the pod template to apply to desired rack r: the
// rendered one with the live seed list while the template is otherwise
// unchanged (and r need not roll to new seeds), else with the effective
// one. A new StatefulSet gets the list its pods run with when it adopts
// pods, else the effective one, or, when none is known, the target seeds
// but its own pods. Computed once per pass and rack; callers copy it.
func (v *view) templateFor(r *rack) any {
	if t, ok := v.tmplCache[r]; ok {
		return t
	}
	// #15: auto_bootstrap=false while a new datacenter joins (datacenters.go)
	want := v.withBootstrapOption(r, nested(r.desired.Object, "spec", "template"))
	var t any
	switch {
	case r.pinned(): // #20: an adopted template is kept as it runs, seeds included
		t = want
	case r.live == nil:
		list, ok := podsSeeds(r) // re-created over its pods: theirs, so that none restarts for it
		if !ok {
			list = v.effectiveList()
		}
		if list == "" {
			list = v.targetBut(r)
		}
		t = WithSeeds(want, list)
	default:
		t = WithSeeds(want, v.keptSeeds(r))
		if e := v.effectiveList(); e != "" {
			if Covers(t, nested(r.live.obj.Object, "spec", "template")) {
				v.noteTemplateLive(r)
			} else {
				t = WithSeeds(want, e)
			}
		}
	}
	if v.tmplCache == nil {
		v.tmplCache = map[*rack]any{}
	}
	v.tmplCache[r] = t
	return t
}

// noteTemplateLive notes that templateFor(r) covers the live template.
func (v *view) noteTemplateLive(r *rack) {
	if v.tmplLive == nil {
		v.tmplLive = map[*rack]bool{}
	}
	v.tmplLive[r] = true
}

// podsSeeds is the seed list the pods of a rack run with (the lowest
// ordinal's that has one), as the StatefulSet that created them had it.
func podsSeeds(r *rack) (string, bool) {
	for _, ord := range sortedOrdinals(r.pods) {
		for _, c := range r.pods[ord].Spec.Containers {
			if c.Name != render.ContainerCassandra {
				continue
			}
			for _, e := range c.Env {
				if e.Name == seedsEnv && e.ValueFrom == nil {
					return e.Value, true
				}
			}
		}
	}
	return "", false
}

// keptSeeds is the live seed list of r, or the effective one when r must
// roll to it: its list names no node joined and up, the topology is
// settled, the ring healthy, and r has nodes.
func (v *view) keptSeeds(r *rack) string {
	live := v.liveSeeds(r)
	e := v.effectiveList()
	if live == "" { // #20: an adopted template that kept its seeds elsewhere
		return e
	}
	if e == "" || live == e || r.live.replicas == 0 || v.namesJoined(live, "") || !v.settled() {
		return live
	}
	return e
}

// liveSeeds is the seed list of r's live template.
func (v *view) liveSeeds(r *rack) string {
	s, _ := SeedsOf(nested(r.live.obj.Object, "spec", "template"))
	return s
}

// targetBut is the target seed list without the pods of rack r (none of
// them has joined), or the whole target if nothing is left.
func (v *view) targetBut(r *rack) string {
	var out []string
	for _, s := range v.seeds().target {
		if _, ok := ordinalOf(render.SeedPod(s), r.name); !ok {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		out = v.seeds().target
	}
	return strings.Join(out, ",")
}

// namesJoined reports whether a seed list names a node, other than pod,
// that is joined and up.
func (v *view) namesJoined(list, pod string) bool {
	for _, s := range SplitSeeds(list) {
		if p := render.SeedPod(s); p != pod && v.seeds().joined[p] {
			return true
		}
	}
	return false
}

// seedsFit reports whether a node joining as pod may start with list:
// pod is not in it and it names a node joined and up, or pod is the first
// node of a brand-new ring and in it.
func (v *view) seedsFit(list, pod string) bool {
	s := v.seeds()
	if slices.ContainsFunc(SplitSeeds(list), func(e string) bool { return render.SeedPod(e) == pod }) {
		return s.brandNew && pod == s.first
	}
	return v.namesJoined(list, pod)
}

// settled: no topology change in flight or due (every context read,
// every rack at its node count, no decommission marker) and the ring
// healthy.
func (v *view) settled() bool {
	if !v.o.Ring.Assessed || !v.o.Ring.Healthy || len(v.unreachable()) > 0 {
		return false
	}
	for _, r := range v.racks {
		if r.live == nil || r.live.replicas != r.target || r.live.annotations[contract.AnnotationDecommission] != "" {
			return false
		}
	}
	return true
}

// SplitSeeds is the entries of a seed list, none for "".
func SplitSeeds(list string) []string {
	if list == "" {
		return nil
	}
	return strings.Split(list, ",")
}

// WithSeeds is tmpl with CASSANDRA_SEEDS set to list: tmpl itself when
// it has that list already (or no such variable), else a copy of the
// maps and lists on the way to the variable that shares everything else
// with tmpl (neither is ever modified: write a deepCopy).
func WithSeeds(tmpl any, list string) any {
	if s, ok := SeedsOf(tmpl); !ok || s == list {
		return tmpl
	}
	t := asMap(tmpl)
	spec := asMap(t["spec"])
	containers, _ := spec["containers"].([]any)
	for i, c := range containers { // as cassandraContainer and seedsEntry find it
		ctr, ok := c.(map[string]any)
		if !ok || ctr["name"] != render.ContainerCassandra {
			continue
		}
		env := slices.Clone(ctr["env"].([]any))
		for j, e := range env {
			if m, ok := e.(map[string]any); ok && m["name"] == seedsEnv {
				env[j] = withKey(m, "value", list)
				break
			}
		}
		containers = slices.Clone(containers)
		containers[i] = withKey(ctr, "env", env)
		break
	}
	return withKey(t, "spec", withKey(spec, "containers", containers))
}

// withKey is a shallow copy of m with k set to v.
func withKey(m map[string]any, k string, v any) map[string]any {
	c := maps.Clone(m)
	c[k] = v
	return c
}

// seedsNote says, for a step's reason, what the seed list of a new rack
// is.
func (v *view) seedsNote(list string) string {
	s := v.seeds()
	switch {
	case s.brandNew && list == strings.Join(s.target[:min(1, len(s.target))], ","):
		return "seed list: " + s.first + ", the cluster's first node, alone its own seed"
	case list == v.effectiveList():
		return "seed list: " + plural(len(SplitSeeds(list)), "joined node")
	}
	return "seed list: the target seeds but its own pods, until nodes have joined"
}
