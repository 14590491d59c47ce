package plan

import (
	"fmt"

	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// The record (replace, #16): ringops' durable memory of the nodes that
// joined the ring, in the ConfigMap render.NodesConfigMap of each
// context, written by the planner and never rendered nor pruned. Its keys:
//
//	<statefulset>  a line per ordinal whose node joined:
//	               <ordinal> pvc=<uid> host=<host ID> address=<ip> joined=<time> [cleaned=<time>] [replace=<ip> | join=new]
//	datacenters    a line per datacenter of the context once it was first complete:
//	               <dc> complete=<time>
//	removed        a line per spec.operations removal carried out:
//	               <host ID> pod=<pod> revision=<revision> at=<time> attempt=<n>
//
// It is why the planner knows, after any restart, which volume each node
// lived on (a new PVC UID is a lost volume), which host ID and address
// the dead node had (what to replace, what removenode names), which nodes
// hold the data of ranges they gave away (joined and cleaned against the
// later joins of a complete datacenter), and which removals were carried
// out (never twice). The pod's init container reads its StatefulSet's key
// (render/gate.go): a recorded node on a new volume waits until its line
// carries an instruction. A line is written when the node is seen joined
// (NORMAL, Up and Normal, Ready, with its host ID), kept up to date with
// its address (a restarted pod has a new IP), and dropped with its
// replica.

// Keys of the record besides the StatefulSets'.
const (
	recordDatacenters = "datacenters"
	recordRemoved     = "removed"
)

// nodeLine is one node of the record.
type nodeLine struct {
	ord                int32
	pvc, host, address string
	joined, cleaned    time.Time
	replace            string // instruction: replace the dead node at this address
	joinNew            bool   // instruction: bootstrap as a new node
}

// removedLine is a removal carried out.
type removedLine struct {
	host, pod, revision string
	at                  time.Time
	attempt             int
}

// record is the record of one context, parsed.
type record struct {
	ctx     string
	live    *unstructured.Unstructured // nil when absent
	racks   map[string]map[int32]*nodeLine
	dcs     map[string]time.Time
	removed map[string]*removedLine // by lower-case host ID
}

// RecordKey is the ObjectKey of the record of the nodes (replace, #16) of
// cluster in namespace ns.
func RecordKey(ns, cluster string) string {
	return "/ConfigMap/" + ns + "/" + render.NodesConfigMap(cluster)
}

// isRecord reports whether a live object is a record of the cluster.
func (v *view) isRecord(u *unstructured.Unstructured) bool {
	return u.GetKind() == "ConfigMap" && u.GetAPIVersion() == "v1" && u.GetName() == render.NodesConfigMap(v.name)
}

// record is the parsed record of a reachable context (empty when absent).
func (v *view) record(kc string) *record {
	if rec, ok := v.records[kc]; ok {
		return rec
	}
	rec := &record{ctx: kc, racks: map[string]map[int32]*nodeLine{}, dcs: map[string]time.Time{}, removed: map[string]*removedLine{}}
	if lc := v.live[kc]; lc != nil {
		rec.live = lc.byKey[RecordKey(v.c.Metadata.Namespace, v.name)]
	}
	if rec.live != nil {
		data, _ := rec.live.Object["data"].(map[string]any)
		for key, val := range data {
			text, _ := val.(string)
			rec.parse(key, text)
		}
	}
	if v.records == nil {
		v.records = map[string]*record{}
	}
	v.records[kc] = rec
	return rec
}

func (rec *record) parse(key, text string) {
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		kv := fields(f[1:])
		switch key {
		case recordDatacenters:
			if t, err := time.Parse(time.RFC3339, kv["complete"]); err == nil {
				rec.dcs[f[0]] = t
			}
		case recordRemoved:
			n, _ := strconv.Atoi(kv["attempt"])
			at, _ := time.Parse(time.RFC3339, kv["at"])
			rec.removed[strings.ToLower(f[0])] = &removedLine{host: f[0], pod: kv["pod"], revision: kv["revision"], at: at, attempt: max(1, n)}
		default:
			ord, err := strconv.Atoi(f[0])
			if err != nil || ord < 0 {
				continue
			}
			l := &nodeLine{ord: int32(ord), pvc: kv["pvc"], host: kv["host"], address: kv["address"],
				replace: kv["replace"], joinNew: kv["join"] == "new"}
			l.joined, _ = time.Parse(time.RFC3339, kv["joined"])
			l.cleaned, _ = time.Parse(time.RFC3339, kv["cleaned"])
			if rec.racks[key] == nil {
				rec.racks[key] = map[int32]*nodeLine{}
			}
			rec.racks[key][l.ord] = l
		}
	}
}

func fields(f []string) map[string]string {
	out := map[string]string{}
	for _, s := range f {
		if k, val, ok := strings.Cut(s, "="); ok {
			out[k] = val
		}
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func (l *nodeLine) String() string {
	s := fmt.Sprintf("%d pvc=%s host=%s address=%s joined=%s", l.ord, l.pvc, l.host, l.address, stamp(l.joined))
	if !l.cleaned.IsZero() {
		s += " cleaned=" + stamp(l.cleaned)
	}
	switch {
	case l.replace != "":
		s += " replace=" + l.replace
	case l.joinNew:
		s += " join=new"
	}
	return s
}

// clone is a deep copy, to build a changed record.
func (rec *record) clone() *record {
	c := &record{ctx: rec.ctx, live: rec.live, racks: map[string]map[int32]*nodeLine{}, dcs: map[string]time.Time{}, removed: map[string]*removedLine{}}
	for k, lines := range rec.racks {
		c.racks[k] = map[int32]*nodeLine{}
		for ord, l := range lines {
			cp := *l
			c.racks[k][ord] = &cp
		}
	}
	for k, t := range rec.dcs {
		c.dcs[k] = t
	}
	for k, r := range rec.removed {
		cp := *r
		c.removed[k] = &cp
	}
	return c
}

// data is the record as the ConfigMap's data, each key's lines sorted.
func (rec *record) data() map[string]any {
	data := map[string]any{}
	for name, lines := range rec.racks {
		var out []string
		for _, ord := range sortedOrdinals(lines) {
			out = append(out, lines[ord].String())
		}
		if len(out) > 0 {
			data[name] = strings.Join(out, "\n") + "\n"
		}
	}
	var dcs []string
	for _, dc := range sortedKeys(rec.dcs) {
		dcs = append(dcs, dc+" complete="+stamp(rec.dcs[dc]))
	}
	if len(dcs) > 0 {
		data[recordDatacenters] = strings.Join(dcs, "\n") + "\n"
	}
	var removed []string
	for _, k := range sortedKeys(rec.removed) {
		r := rec.removed[k]
		removed = append(removed, fmt.Sprintf("%s pod=%s revision=%s at=%s attempt=%d", r.host, r.pod, orDash(r.revision), stamp(r.at), r.attempt))
	}
	if len(removed) > 0 {
		data[recordRemoved] = strings.Join(removed, "\n") + "\n"
	}
	return data
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// object is the record's ConfigMap to apply, over the live one's
// resourceVersion when there is one.
func (v *view) recordObject(rec *record) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "data": rec.data()}}
	u.SetName(render.NodesConfigMap(v.name))
	u.SetNamespace(v.c.Metadata.Namespace)
	u.SetLabels(map[string]string{contract.LabelManagedBy: contract.ManagedBy, contract.LabelCluster: v.name,
		contract.LabelName: contract.AppName, contract.LabelInstance: v.name})
	if rec.live != nil {
		u.SetResourceVersion(rec.live.GetResourceVersion())
	}
	return u
}

// equalData reports whether a record would write what the live one holds.
func (v *view) sameRecord(rec *record) bool {
	if rec.live == nil {
		return len(rec.data()) == 0
	}
	live, _ := rec.live.Object["data"].(map[string]any)
	want := rec.data()
	if len(live) != len(want) {
		return false
	}
	for k, val := range want {
		if live[k] != val {
			return false
		}
	}
	return true
}

// recordStep is the write of a context's record, when what the clusters
// show changed it: nodes seen joined (or on a new address, or done
// replacing), replicas gone, datacenters complete for the first time,
// cleanups done.
func (v *view) recordStep(kc string) (Step, bool) {
	if !v.o.Ring.Assessed {
		return Step{}, false
	}
	rec := v.record(kc).clone()
	var why []string
	for _, r := range v.racks {
		if r.ctx == kc {
			why = append(why, v.recordRack(rec, r)...)
		}
	}
	why = append(why, v.recordDatacenters(rec, kc)...)
	if v.sameRecord(rec) {
		return Step{}, false
	}
	u := v.recordObject(rec)
	if len(why) == 0 {
		why = []string{"record updated"}
	}
	return Step{Action: ApplyObjects, Context: kc, Target: refOf(u), Objects: objs(u),
		Reason: "record of the nodes (" + render.NodesConfigMap(v.name) + "): " + strings.Join(why, "; ")}, true
}

// recordRack brings a rack's lines up to date, and says what changed.
func (v *view) recordRack(rec *record, r *rack) []string {
	lines := rec.racks[r.name]
	if lines == nil {
		lines = map[int32]*nodeLine{}
		rec.racks[r.name] = lines
	}
	var why []string
	for _, ord := range sortedOrdinals(lines) {
		if r.live == nil || (ord >= r.live.replicas && r.pods[ord] == nil) {
			delete(lines, ord)
			why = append(why, r.podName(ord)+" left the rack")
		}
	}
	if r.live == nil {
		delete(rec.racks, r.name)
		return why
	}
	for ord := int32(0); ord < r.live.replicas; ord++ {
		if w := v.recordNode(lines, r, ord); w != "" {
			why = append(why, w)
		}
	}
	if w := v.recordCleanup(lines, r); w != "" {
		why = append(why, w)
	}
	return why
}

// joinedNode is what the ring says of a pod whose node has joined on its
// current volume: nil unless it is NORMAL, Up and Normal in every view,
// Ready, with a host ID, on a PVC that is not going away.
func (v *view) joinedNode(r *rack, ord int32) (*RingNode, *corev1.PersistentVolumeClaim) {
	p, c := r.pods[ord], r.pvcs[ord]
	n, ok := v.o.Ring.Nodes[r.podName(ord)]
	if !ok || !podReady(p) || c == nil || c.DeletionTimestamp != nil || c.UID == "" ||
		n.Mode != ring.ModeNormal || n.State != ring.UN || !n.InRing || n.HostID == "" || n.Address == "" {
		return nil, nil
	}
	return &n, c
}

// recordNode records a pod's node once it has joined, follows its
// address, and records the end of a replacement or of a new join.
func (v *view) recordNode(lines map[int32]*nodeLine, r *rack, ord int32) string {
	n, c := v.joinedNode(r, ord)
	if n == nil {
		return ""
	}
	pod := r.podName(ord)
	l := lines[ord]
	switch {
	case l == nil:
		lines[ord] = &nodeLine{ord: ord, pvc: string(c.UID), host: n.HostID, address: n.Address, joined: v.now}
		return pod + " joined (host ID " + n.HostID + ")"
	case l.pvc == string(c.UID):
		if l.host == n.HostID && l.address == n.Address {
			return ""
		}
		l.host, l.address = n.HostID, n.Address
		return pod + " at " + n.Address
	case l.replace != "" && !v.hostInRing(l.host, pod):
		// The replacement took the dead node's tokens: it holds what that
		// node held, and joined when it did.
		*l = nodeLine{ord: ord, pvc: string(c.UID), host: n.HostID, address: n.Address, joined: l.joined, cleaned: l.cleaned}
		return pod + " replaced the dead node (host ID " + n.HostID + ")"
	case l.replace != "":
		return ""
	}
	*l = nodeLine{ord: ord, pvc: string(c.UID), host: n.HostID, address: n.Address, joined: v.now}
	return pod + " joined as a new node (host ID " + n.HostID + ")"
}

// recordDatacenters records the datacenters of a context complete for
// the first time (every rack at its node count, each node joined, the
// ring healthy): the nodes that join them afterwards are growth, after
// which the older nodes are cleaned up. An emptied datacenter is
// forgotten.
func (v *view) recordDatacenters(rec *record, kc string) []string {
	var why []string
	for i, dc := range v.c.Spec.Datacenters {
		if dc.Context != kc {
			continue
		}
		if dc.DatacenterNodes() == 0 {
			if _, ok := rec.dcs[dc.Name]; ok {
				delete(rec.dcs, dc.Name)
				why = append(why, "datacenter "+dc.Name+" emptied")
			}
			continue
		}
		if _, ok := rec.dcs[dc.Name]; ok || !v.o.Ring.Healthy || !v.datacenterComplete(i) {
			continue
		}
		rec.dcs[dc.Name] = v.now
		why = append(why, "datacenter "+dc.Name+" complete")
	}
	return why
}

// datacenterComplete: every rack of the datacenter at its node count and
// at rest, each node joined.
func (v *view) datacenterComplete(dcIndex int) bool {
	for _, r := range v.racks {
		if r.dcIndex != dcIndex {
			continue
		}
		if r.live == nil || r.live.replicas != r.target || v.busy(r, -1) != nil {
			return false
		}
		for ord := int32(0); ord < r.target; ord++ {
			if n, _ := v.joinedNode(r, ord); n == nil {
				return false
			}
		}
	}
	return true
}

// hostInRing reports whether a host ID is a ring member: of a pod's node
// other than but, or at an address no pod is at.
func (v *view) hostInRing(hostID, but string) bool {
	_, _, ok := v.findHost(hostID, but)
	return ok
}

// findHost finds a host ID in the ring: the pod it is at (or "") and its
// state and down time.
func (v *view) findHost(hostID, but string) (pod string, at RingEndpoint, ok bool) {
	if hostID == "" {
		return "", RingEndpoint{}, false
	}
	for _, name := range sortedKeys(v.o.Ring.Nodes) {
		n := v.o.Ring.Nodes[name]
		if name != but && strings.EqualFold(n.HostID, hostID) {
			return name, RingEndpoint{Address: n.Address, HostID: n.HostID, State: n.State, DownSince: n.DownSince}, true
		}
	}
	for _, e := range v.o.Ring.Others {
		if strings.EqualFold(e.HostID, hostID) {
			return "", e, true
		}
	}
	if n, ok := v.o.Ring.Nodes[but]; ok && strings.EqualFold(n.HostID, hostID) {
		return but, RingEndpoint{Address: n.Address, HostID: n.HostID, State: n.State, DownSince: n.DownSince}, true
	}
	return "", RingEndpoint{}, false
}

// lineOf is the record's line of a pod, nil when none.
func (v *view) lineOf(r *rack, ord int32) *nodeLine {
	if !r.reachable {
		return nil
	}
	return v.record(r.ctx).racks[r.name][ord]
}

// recordsInOrder lists the reachable contexts' records in context order.
func (v *view) recordsInOrder() []*record {
	var out []*record
	for _, kc := range v.contexts {
		if v.reachable(kc) {
			out = append(out, v.record(kc))
		}
	}
	return out
}
