package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/schemas"
)

// Keyspace replication (#15): the managed keyspaces of the spec
// (schemas.ManagedKeyspaces) against what Cassandra holds
// (Observed.Keyspaces), datacenter by datacenter, in the topology's
// order (package documentation, "Keyspaces and datacenters").

// dcState is one datacenter as the keyspace steps see it.
type dcState struct {
	name   string
	index  int     // position in the spec; len(datacenters) for a removed one
	racks  []*rack // its racks with a live StatefulSet, in rollout order
	target int32   // nodes the revision asks for
	nodes  int32   // live replicas: the nodes it has in the ring, or will at once
}

// dc is the datacenter named name, with its live racks.
func (v *view) dc(name string) *dcState {
	d := &dcState{name: name, index: len(v.c.Spec.Datacenters)}
	for i, s := range v.c.Spec.Datacenters {
		if s.Name == name {
			d.index = i
		}
	}
	for _, r := range v.racks {
		if r.dc != name {
			continue
		}
		d.target += r.target
		if r.live != nil {
			d.racks = append(d.racks, r)
			d.nodes += r.live.replicas
		}
	}
	return d
}

// orphanDCs are the datacenters of live StatefulSets that left the spec,
// sorted.
func (v *view) orphanDCs() []string {
	seen := map[string]bool{}
	for _, r := range v.racks {
		if r.orphan() && r.live != nil && r.dc != "" {
			seen[r.dc] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// managed is the spec's managed keyspaces by name.
func (v *view) managed() map[string]schemas.ManagedKeyspace {
	out := map[string]schemas.ManagedKeyspace{}
	for _, k := range v.c.ManagedKeyspaces() {
		out[k.Name] = k
	}
	return out
}

// keyspacesWait is why a step that depends on the replication waits: it
// could not be read. nil when it was, or when no replication is managed.
func (v *view) keyspacesWait(kc, next string) *Wait {
	ks := v.o.Keyspaces
	if ks == nil || ks.Err == "" {
		return nil
	}
	_, last := v.lastStep()
	msg := "the replication of the keyspaces cannot be read over CQL (" + oneLine(ks.Err) + "); next: " + next
	if rg := v.o.Ring; rg.Assessed && !rg.Healthy {
		// Often the cause (ringops makes sure of its role only on a
		// healthy ring): the nodes at fault come first.
		msg = "waiting for the ring: " + v.ringSummary() + "; " + msg
		if rg.Since.After(last) {
			last = rg.Since
		}
	}
	w := v.timed(Wait{Reason: RingUnhealthy, Context: kc, Message: msg}, last)
	return &w
}

// observed is the replication Cassandra holds for keyspace name.
func (v *view) observed(name string) (Replication, bool) {
	r, ok := v.o.Keyspaces.Replication[name]
	return r, ok
}

// allowed is the factor keyspace k may have in datacenter d now: its
// desired one; for system_auth, at least 1 while d has nodes (Cassandra
// refuses a replication of it that leaves out a datacenter with nodes).
func allowed(k schemas.ManagedKeyspace, d *dcState) int32 {
	f := k.Replication[d.name]
	if f == 0 && k.Name == schemas.AuthKeyspace && d.nodes > 0 {
		return 1
	}
	return f
}

// raise is the AlterKeyspace of datacenter d, once it has all its
// nodes: the managed keyspaces it gains (its nodes then owe a rebuild of
// them, contract.AnnotationRebuild) or whose factor there grows (a notice: a full
// repair fills the new replicas, ringops leaves it to the operator or
// Reaper), and the conversion of SimpleStrategy keyspaces (the system
// ones, as a new Cassandra creates them) to NetworkTopologyStrategy.
func (v *view) raise(d *dcState) *candidate {
	if d.index >= len(v.c.Spec.Datacenters) || d.target == 0 || d.nodes < d.target {
		return nil
	}
	var changes []KeyspaceChange
	var gained, raised, converted []string
	managed := v.managed()
	for _, name := range slices.Sorted(maps.Keys(managed)) {
		k := managed[name]
		obs, ok := v.observed(name)
		want := k.Replication[d.name]
		switch {
		case !ok || want == 0:
		case obs.Strategy != NetworkTopology:
			changes = append(changes, KeyspaceChange{Keyspace: name, From: obs, To: v.converted(k)})
			converted = append(converted, name)
		case obs.Factors[d.name] < want:
			to := maps.Clone(obs.Factors)
			if to == nil {
				to = map[string]int32{}
			}
			to[d.name] = want
			changes = append(changes, KeyspaceChange{Keyspace: name, From: obs, To: to})
			if obs.Factors[d.name] == 0 {
				gained = append(gained, name)
			} else {
				raised = append(raised, name)
			}
		}
	}
	if len(changes) == 0 {
		return nil
	}
	why := v.raiseWords(d, gained, raised, converted)
	return v.alter(d, changes, v.rebuildMarks(d, gained), why)
}

// converted is the NetworkTopologyStrategy replication of a keyspace
// held with another strategy: the factor it may have (allowed) in every
// datacenter that has nodes, at most their count.
func (v *view) converted(k schemas.ManagedKeyspace) map[string]int32 {
	to := map[string]int32{}
	for _, name := range append(v.specDCs(), v.orphanDCs()...) {
		d := v.dc(name)
		if f := allowed(k, d); d.nodes > 0 && f > 0 {
			to[name] = min(f, d.nodes)
		}
	}
	return to
}

// specDCs are the datacenters of the spec, in order.
func (v *view) specDCs() []string {
	out := make([]string, len(v.c.Spec.Datacenters))
	for i, s := range v.c.Spec.Datacenters {
		out[i] = s.Name
	}
	return out
}

func (v *view) raiseWords(d *dcState, gained, raised, converted []string) string {
	var parts []string
	if len(gained) > 0 {
		parts = append(parts, fmt.Sprintf("replication of %s gains %s", strings.Join(gained, ", "), d.name))
	}
	if len(raised) > 0 {
		parts = append(parts, fmt.Sprintf("replication of %s grows in %s: the new replicas hold no data until a full repair of those keyspaces in %s (nodetool repair -full, or Reaper): ringops does not repair",
			strings.Join(raised, ", "), d.name, d.name))
	}
	if len(converted) > 0 {
		parts = append(parts, fmt.Sprintf("%s move to NetworkTopologyStrategy (a full repair places their data on the new replicas)", strings.Join(converted, ", ")))
	}
	why := strings.Join(parts, "; ")
	if len(gained) > 0 && d.nodes > 0 {
		why += fmt.Sprintf("; then the %s of %s are rebuilt from %s, one at a time", plural(int(d.nodes), "node"), d.name, v.sourceOf(d.name))
	}
	return why + "; then the ring must agree on one schema version"
}

// lower is the AlterKeyspace that takes datacenter d's factors down to
// what it may keep now: before a node of d is decommissioned (Cassandra
// refuses to decommission below a keyspace's factor), and out of every
// replication once d is emptied. Its nodes that stay then owe a cleanup
// of those keyspaces (contract.AnnotationCleanup).
func (v *view) lower(d *dcState) *candidate {
	managed := v.managed()
	var changes []KeyspaceChange
	var lowered, left []string
	for _, name := range slices.Sorted(maps.Keys(managed)) {
		obs, ok := v.observed(name)
		if !ok || obs.Strategy != NetworkTopology {
			continue
		}
		k := managed[name]
		if have, may := obs.Factors[d.name], allowed(k, d); have > may {
			to := maps.Clone(obs.Factors)
			delete(to, d.name)
			if may > 0 {
				to[d.name] = may
				lowered = append(lowered, name)
			} else {
				left = append(left, name)
			}
			if len(to) == 0 {
				continue // no replica left anywhere: Cassandra refuses it, and so does schemas
			}
			changes = append(changes, KeyspaceChange{Keyspace: name, From: obs, To: to})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	var parts []string
	if len(left) > 0 {
		parts = append(parts, fmt.Sprintf("%s %s the replication of %s", strings.Join(left, ", "), verbLeave(len(left)), d.name))
	}
	if len(lowered) > 0 {
		parts = append(parts, fmt.Sprintf("replication of %s shrinks in %s", strings.Join(lowered, ", "), d.name))
	}
	why := strings.Join(parts, "; ")
	switch {
	case d.target == 0 && d.nodes > 0:
		why += fmt.Sprintf(", before %s leaves (system_auth keeps 1 replica there until its last node is gone: Cassandra refuses it otherwise)", d.name)
	case d.nodes > d.target:
		why += ", before the decommissions that shrink " + d.name
	}
	var marks []*rack
	if d.target > 0 {
		marks = d.racks
	}
	return v.alter(d, changes, v.cleanupMarks(marks, append(lowered, left...)), why+"; then the ring must agree on one schema version")
}

// strays takes out of the managed keyspaces the datacenters that are
// neither in the spec nor have a StatefulSet left (a datacenter removed
// before its replication was), once nothing else is left to do there.
func (v *view) strays() *candidate {
	known := map[string]bool{}
	for _, s := range v.c.Spec.Datacenters {
		known[s.Name] = true
	}
	for _, r := range v.racks {
		known[r.dc] = true
	}
	managed := v.managed()
	var changes []KeyspaceChange
	var gone []string
	for _, name := range slices.Sorted(maps.Keys(managed)) {
		obs, ok := v.observed(name)
		if !ok || obs.Strategy != NetworkTopology {
			continue
		}
		to := maps.Clone(obs.Factors)
		for dc := range obs.Factors {
			if !known[dc] {
				delete(to, dc)
				if !slices.Contains(gone, dc) {
					gone = append(gone, dc)
				}
			}
		}
		if len(to) < len(obs.Factors) && len(to) > 0 {
			changes = append(changes, KeyspaceChange{Keyspace: name, From: obs, To: to})
		}
	}
	if len(changes) == 0 {
		return nil
	}
	slices.Sort(gone)
	d := v.dc(v.c.Spec.Datacenters[0].Name)
	return v.alter(d, changes, nil, fmt.Sprintf("%s left the spec and %s no node: out of the replication of %s",
		strings.Join(gone, ", "), verbHas(len(gone)), keyspaceNames(changes)))
}

func verbHas(n int) string {
	if n == 1 {
		return "has"
	}
	return "have"
}

func keyspaceNames(changes []KeyspaceChange) string {
	names := make([]string, len(changes))
	for i, k := range changes {
		names[i] = k.Keyspace
	}
	return strings.Join(names, ", ")
}

// alter is the AlterKeyspace step of datacenter d: the StatefulSets in
// marks written first (stamped, with the work they owe), then the
// statements, through the coordinator datacenter's nodes.
func (v *view) alter(d *dcState, changes []KeyspaceChange, marks map[*rack]map[string]string, why string) *candidate {
	if changes = v.withoutEmptyDCs(changes); len(changes) == 0 {
		return nil
	}
	if c := v.authElsewhere(d, changes); c != nil {
		return c
	}
	marks = v.withAuthDCs(d, changes, marks)
	what := "alter keyspaces " + keyspaceNames(changes)
	s := Step{Action: AlterKeyspace, Context: v.dcContext(d), Keyspaces: changes, Datacenter: v.coordinator(),
		Target: ObjectRef{Kind: "Keyspace", Name: changes[0].Keyspace}, Reason: why}
	for _, r := range v.racks {
		set, ok := marks[r]
		if !ok {
			continue
		}
		stamp := v.stamp(what)
		maps.Copy(stamp, set)
		s.Objects = append(s.Objects, v.write(r, r.live.replicas, r.live.partition, stamp))
	}
	c := &candidate{r: v.anchor(d), except: -1, desc: "replication of " + keyspaceNames(changes) + " in " + d.name, step: s}
	return c
}

// withoutEmptyDCs drops from the changes the factors of datacenters
// without nodes (Cassandra refuses a datacenter it does not know: one
// emptied, whose factor is left over), and the changes that change
// nothing then.
func (v *view) withoutEmptyDCs(changes []KeyspaceChange) []KeyspaceChange {
	var out []KeyspaceChange
	for _, k := range changes {
		to := maps.Clone(k.To)
		for dc := range to {
			if v.dc(dc).nodes == 0 {
				delete(to, dc)
			}
		}
		if len(to) == 0 || k.From.Strategy == NetworkTopology && maps.Equal(to, k.From.Factors) {
			continue
		}
		k.To = to
		out = append(out, k)
	}
	return out
}

// withAuthDCs completes a change of system_auth (managed) with the
// datacenters that have nodes and that it leaves out: their nodes joined
// while it did not replicate there (a new ring's datacenters, converted
// before they had nodes). Cassandra refuses any replication of system_auth
// without them ("Following datacenters have active nodes and must be
// present in replication options for keyspace system_auth",
// NetworkTopologyStrategy.validateExpectedOptions), so each gains it at
// the factor it may have, at least 1; the nodes of one that stays then owe
// a rebuild of it.
func (v *view) withAuthDCs(at *dcState, changes []KeyspaceChange, marks map[*rack]map[string]string) map[*rack]map[string]string {
	k, managed := v.managed()[schemas.AuthKeyspace]
	for i, c := range changes {
		if !managed || c.Keyspace != schemas.AuthKeyspace {
			continue
		}
		for _, name := range append(v.specDCs(), v.orphanDCs()...) {
			d := v.dc(name)
			if d.nodes == 0 || c.To[name] > 0 {
				continue
			}
			changes[i].To[name] = min(max(allowed(k, d), 1), d.nodes)
			if d.target == 0 || v.dcContext(d) != v.dcContext(at) {
				continue // a step applies objects in its own context only (authElsewhere)
			}
			if marks == nil {
				marks = map[*rack]map[string]string{}
			}
			for r, m := range v.rebuildMarks(d, []string{k.Name}) {
				if _, ok := marks[r]; !ok {
					marks[r] = m
				}
			}
		}
	}
	return marks
}

// authElsewhere is, when changes alter system_auth (managed) and leave
// out a datacenter with nodes that stays, in another context than d's,
// that datacenter's own AlterKeyspace first: system_auth gains every
// datacenter with nodes it lacks, and that one's racks are marked for a
// rebuild of it (a step writes objects in its own context only). nil
// otherwise.
func (v *view) authElsewhere(d *dcState, changes []KeyspaceChange) *candidate {
	k, managed := v.managed()[schemas.AuthKeyspace]
	obs, ok := v.observed(schemas.AuthKeyspace)
	if !managed || !ok || obs.Strategy != NetworkTopology {
		return nil
	}
	for _, c := range changes {
		if c.Keyspace != schemas.AuthKeyspace {
			continue
		}
		for _, name := range append(v.specDCs(), v.orphanDCs()...) {
			m := v.dc(name)
			if m.nodes == 0 || m.target == 0 || c.To[name] > 0 || v.dcContext(m) == v.dcContext(d) {
				continue
			}
			to := maps.Clone(obs.Factors)
			for _, other := range append(v.specDCs(), v.orphanDCs()...) {
				if o := v.dc(other); o.nodes > 0 && to[other] == 0 {
					to[other] = min(max(allowed(k, o), 1), o.nodes)
				}
			}
			return v.alter(m, []KeyspaceChange{{Keyspace: k.Name, From: obs, To: to}}, v.rebuildMarks(m, []string{k.Name}),
				fmt.Sprintf("system_auth must replicate to every datacenter with nodes before any change of it (Cassandra refuses it otherwise), and %s has %s: replication of system_auth gains %s; then its nodes are rebuilt from %s",
					name, plural(int(m.nodes), "node"), name, v.sourceOf(name)))
		}
	}
	return nil
}

// dcContext is the context of a datacenter: the spec's, or its racks'.
func (v *view) dcContext(d *dcState) string {
	if d.index < len(v.c.Spec.Datacenters) {
		return v.c.Spec.Datacenters[d.index].Context
	}
	if len(d.racks) > 0 {
		return d.racks[0].ctx
	}
	return v.seedCtx
}

// anchor is the rack a step about datacenter d is gated and reported
// with: its first, else the seed datacenter's first.
func (v *view) anchor(d *dcState) *rack {
	if len(d.racks) > 0 {
		return d.racks[0]
	}
	for _, r := range v.racks {
		if r.dc == d.name {
			return r
		}
	}
	return v.racks[0]
}

// coordinator is the datacenter whose nodes take the ALTER statements:
// the first of the spec whose nodes have all joined (none owes a
// rebuild of everything), else the first with nodes.
func (v *view) coordinator() string {
	first := ""
	for _, s := range v.c.Spec.Datacenters {
		d := v.dc(s.Name)
		if d.nodes == 0 {
			continue
		}
		if first == "" {
			first = s.Name
		}
		if !slices.ContainsFunc(d.racks, func(r *rack) bool { return r.rebuildsAll() }) {
			return s.Name
		}
	}
	if first == "" {
		return v.c.Spec.Datacenters[0].Name
	}
	return first
}

// cleanupMarks are the annotations of the racks whose nodes owe a
// cleanup of keyspaces: contract.AnnotationCleanup gains them, and the record of
// the nodes cleaned up starts afresh.
func (v *view) cleanupMarks(racks []*rack, keyspaces []string) map[*rack]map[string]string {
	out := map[*rack]map[string]string{}
	for _, r := range racks {
		if r.live == nil || r.live.replicas == 0 {
			continue
		}
		have := splitList(r.live.annotations[contract.AnnotationCleanup])
		out[r] = map[string]string{contract.AnnotationCleanup: joinList(append(have, keyspaces...)), contract.AnnotationCleaned: ""}
	}
	return out
}

// unmanagedIn is the wait of a datacenter that leaves while keyspaces
// ringops does not manage still keep replicas there: a decommission would
// take them away (Cassandra refuses it, or, forced, loses them).
func (v *view) unmanagedIn(d *dcState) *Wait {
	managed := v.managed()
	var names []string
	for _, name := range slices.Sorted(maps.Keys(v.o.Keyspaces.Replication)) {
		obs := v.o.Keyspaces.Replication[name]
		if _, ok := managed[name]; ok {
			continue
		}
		if obs.factor(d.name) > 0 || obs.Strategy == StrategyOther {
			names = append(names, name+" ("+obs.String()+")")
		}
	}
	if len(names) == 0 {
		return nil
	}
	return &Wait{Reason: Blocked, Context: v.dcContext(d), Message: fmt.Sprintf(
		"%s should leave, but %s, which ringops does not manage, %s replicas there: take %s out of their replication (ALTER KEYSPACE ... WITH replication = {'class': 'NetworkTopologyStrategy', ...} without %s), or list them in spec.keyspaces; no node of %s is decommissioned until then",
		d.name, strings.Join(names, ", "), verbKeep(len(names)), d.name, d.name, d.name)}
}

func verbLeave(n int) string {
	if n == 1 {
		return "leaves"
	}
	return "leave"
}

func verbKeep(n int) string {
	if n == 1 {
		return "keeps"
	}
	return "keep"
}

// decommissionRefusal says which keyspaces would make Cassandra refuse
// the decommission of a node of d (4.0 and later, without force: a
// keyspace with at least as many replicas in the datacenter, or in the
// ring for SimpleStrategy, as it has nodes), and whether force is due:
// d leaves, the node is its last, and system_auth alone refuses (it
// cannot leave a datacenter with nodes). "" and false when nothing
// refuses, or the replication is not known.
func (v *view) decommissionRefusal(d *dcState) (refused string, force bool) {
	ks := v.o.Keyspaces
	if ks == nil || ks.Err != "" {
		return "", false
	}
	total := int32(0)
	for _, r := range v.racks {
		if r.live != nil {
			total += r.live.replicas
		}
	}
	var names []string
	onlyAuth := true
	for _, name := range slices.Sorted(maps.Keys(ks.Replication)) {
		obs := ks.Replication[name]
		rf, n := obs.factor(d.name), d.nodes
		if obs.Strategy == Simple {
			rf, n = obs.Factor, total
		}
		if rf > 0 && n <= rf {
			names = append(names, fmt.Sprintf("%s (RF %d, %s)", name, rf, plural(int(n), "node")))
			onlyAuth = onlyAuth && name == schemas.AuthKeyspace && obs.Strategy == NetworkTopology
		}
	}
	if len(names) == 0 {
		return "", false
	}
	if onlyAuth && d.target == 0 && d.nodes == 1 {
		return "", true
	}
	return strings.Join(names, ", "), false
}

// splitList and joinList read and write the comma lists of the
// annotations (sorted, without duplicates).
func splitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

func joinList(l []string) string {
	l = slices.Clone(l)
	slices.Sort(l)
	return strings.Join(slices.Compact(l), ",")
}
