package plan

import (
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
	"github.com/ringops/ringops/render"
)

// Fields of a StatefulSet's spec that the API server refuses to change: a
// difference is applied by RecreateStatefulSet (orphan delete, re-create).
var immutableFields = []string{"selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"}

// Fields of a StatefulSet's spec the planner owns: never compared with the
// rendered object.
var plannerFields = map[string]bool{"replicas": true, "updateStrategy": true, "template": true}

// stateAnnotations are carried from the live StatefulSet into every write,
// unless the write changes them.
var stateAnnotations = []string{contract.AnnotationStep, contract.AnnotationStepAt, contract.AnnotationDecommission, contract.AnnotationChange, contract.AnnotationAttempt,
	contract.AnnotationRebuild, contract.AnnotationRebuilt, contract.AnnotationCleanup, contract.AnnotationCleaned} // the last four: #15

// stsDiff is how a live StatefulSet differs from what is to be applied.
type stsDiff struct {
	immutable string // the first immutable field that differs
	template  bool   // the pod template differs
	other     bool   // labels, annotations or other mutable fields differ
	change    string // what the template change is, for humans
}

func (d stsDiff) any() bool { return d.immutable != "" || d.template || d.other }

// diffSTS compares a desired rack's live StatefulSet with the object to
// apply (the rendered one with the planner's seed list, see templateFor).
func (v *view) diffSTS(r *rack) stsDiff {
	want, live := r.desired.Object, r.live.obj.Object
	var d stsDiff
	for _, f := range immutableFields {
		if !Covers(nested(want, "spec", f), nested(live, "spec", f)) {
			d.immutable = "spec." + f
			break
		}
	}
	wt, lt := nested(want, "spec", "template"), nested(live, "spec", "template")
	// The planner's template first: the live one's, mostly.
	if tmpl := v.templateFor(r); !v.tmplLive[r] && !Covers(tmpl, lt) && !Covers(wt, lt) {
		d.template = true
		d.change = describeChange(tmpl, lt)
		if r.live.annotations[contract.AnnotationAdoptedTemplate] != "" { // #20: the pin broke
			d.change = "from " + valueOr(r.live.annotations[contract.AnnotationAdopted], "the adopted") + "'s pod template to ringops' (" + d.change + ")"
		}
		if Covers(WithSeeds(wt, v.liveSeeds(r)), lt) {
			d.change += " (no seed of its list is up in the ring)"
		}
	}
	d.other = !coversMeta(r.desired, r.live.obj, true) || !coversMutableSpec(want, live)
	return d
}

func coversMutableSpec(want, live map[string]any) bool {
	ws, _ := nested(want, "spec").(map[string]any)
	ls, _ := nested(live, "spec").(map[string]any)
	for k, wv := range ws {
		if plannerFields[k] || isImmutable(k) {
			continue
		}
		if !Covers(wv, ls[k]) {
			return false
		}
	}
	return Covers(nested(want, "spec", "updateStrategy", "type"), nested(live, "spec", "updateStrategy", "type"))
}

func isImmutable(field string) bool {
	for _, f := range immutableFields {
		if f == field {
			return true
		}
	}
	return false
}

// coversMeta compares labels and annotations; skipHash leaves out the
// spec hash (a StatefulSet's covers its final replicas, which the planner
// reaches one at a time).
func coversMeta(want, live *unstructured.Unstructured, skipHash bool) bool {
	if !Covers(nested(want.Object, "metadata", "labels"), nested(live.Object, "metadata", "labels")) {
		return false
	}
	wa, _ := nested(want.Object, "metadata", "annotations").(map[string]any)
	la, _ := nested(live.Object, "metadata", "annotations").(map[string]any)
	for k, v := range wa {
		if skipHash && k == contract.AnnotationSpecHash {
			continue
		}
		if ws, _ := v.(string); metaString(la, k) != ws {
			return false
		}
	}
	return true
}

// metaString is m[k] as GetLabels and GetAnnotations read it ("" when
// missing), without copying m.
func metaString(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

// CoversObject reports whether a live object other than a StatefulSet is
// as rendered: labels, annotations and every top-level field but status.
func CoversObject(want, live *unstructured.Unstructured) bool {
	if !coversMeta(want, live, false) {
		return false
	}
	for k, wv := range want.Object {
		switch k {
		case "apiVersion", "kind", "metadata", "status":
			continue
		}
		if !Covers(wv, live.Object[k]) {
			return false
		}
	}
	return true
}

// cassandraContainer returns the container "cassandra" of a pod template.
func cassandraContainer(tmpl any) map[string]any {
	containers, _ := nested(asMap(tmpl), "spec", "containers").([]any)
	for _, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == render.ContainerCassandra {
			return m
		}
	}
	return nil
}

const seedsEnv = "CASSANDRA_SEEDS"

func seedsEntry(tmpl any) map[string]any {
	env, _ := cassandraContainer(tmpl)["env"].([]any)
	for _, e := range env {
		if m, ok := e.(map[string]any); ok && m["name"] == seedsEnv {
			return m
		}
	}
	return nil
}

// SeedsOf is the seed list (CASSANDRA_SEEDS) of a pod template's
// cassandra container, and whether it has one.
func SeedsOf(tmpl any) (string, bool) {
	e := seedsEntry(tmpl)
	if e == nil {
		return "", false
	}
	s, ok := e["value"].(string)
	return s, ok
}

func setSeeds(tmpl any, seeds string) {
	if e := seedsEntry(tmpl); e != nil {
		e["value"] = seeds
	}
}

// ImageOf is the image of a pod template's cassandra container.
func ImageOf(tmpl any) string {
	s, _ := cassandraContainer(tmpl)["image"].(string)
	return s
}

// describeChange says what differs between two pod templates, for humans.
func describeChange(want, live any) string {
	var parts []string
	if wi, li := ImageOf(want), ImageOf(live); wi != li {
		parts = append(parts, "image "+li+" -> "+wi)
	}
	ws, _ := SeedsOf(want)
	ls, _ := SeedsOf(live)
	if ws != ls {
		parts = append(parts, "seed list "+seedCount(ls)+" -> "+seedCount(ws))
	}
	wh := nested(asMap(want), "metadata", "annotations", contract.AnnotationConfigHash)
	lh := nested(asMap(live), "metadata", "annotations", contract.AnnotationConfigHash)
	if wh != lh {
		parts = append(parts, "configuration")
	}
	wr := nested(asMap(want), "metadata", "annotations", contract.AnnotationRotate)
	lr := nested(asMap(live), "metadata", "annotations", contract.AnnotationRotate)
	if wr != lr {
		parts = append(parts, "Jolokia credentials rotated")
	}
	if len(parts) == 0 {
		return "pod template (" + firstDifference(want, live, "spec.template") + ")"
	}
	return strings.Join(parts, ", ")
}

func seedCount(s string) string {
	if s == "" {
		return "0 seeds"
	}
	return plural(strings.Count(s, ",")+1, "seed")
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// write is the StatefulSet object of a step on rack r: the rendered
// object (or, for a removed datacenter, the live one) with the replicas,
// the partition, the state annotations carried over and changed by set
// (an empty value removes one), and the observed resourceVersion. When the
// template it carries differs from the live one, the partition is raised
// so that no pod restarts: a template change is only ever staged.
func (v *view) write(r *rack, replicas, partition int32, set map[string]string) *unstructured.Unstructured {
	var tmpl any
	if !r.orphan() {
		tmpl = v.templateFor(r)
	}
	return v.writeTemplate(r, tmpl, replicas, partition, set)
}

// writeTemplate is write with the pod template of a desired rack given.
func (v *view) writeTemplate(r *rack, tmpl any, replicas, partition int32, set map[string]string) *unstructured.Unstructured {
	var u *unstructured.Unstructured
	if r.orphan() {
		u = fromLive(r.live.obj)
	} else {
		u = r.desired.DeepCopy()
		specOf(u)["template"] = jsontree.Copy(tmpl)
		if r.live != nil && !Covers(nested(u.Object, "spec", "template"), nested(r.live.obj.Object, "spec", "template")) {
			partition = min(replicas, r.live.replicas)
		}
	}
	spec := specOf(u)
	spec["replicas"] = int64(replicas)
	spec["updateStrategy"] = map[string]any{
		"type":          "RollingUpdate",
		"rollingUpdate": map[string]any{"partition": int64(partition)},
	}
	ann := u.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	if r.live != nil {
		for _, k := range stateAnnotations {
			if val := r.live.annotations[k]; val != "" {
				ann[k] = val
			}
		}
		u.SetResourceVersion(r.live.obj.GetResourceVersion())
	}
	for k, val := range set {
		if val == "" {
			delete(ann, k)
		} else {
			ann[k] = val
		}
	}
	u.SetAnnotations(ann)
	return u
}

// specOf returns the object's spec, made a map if it is not one.
func specOf(u *unstructured.Unstructured) map[string]any {
	spec, ok := u.Object["spec"].(map[string]any)
	if !ok {
		spec = map[string]any{}
		u.Object["spec"] = spec
	}
	return spec
}

// stamp is the annotations of a disruptive step started now: a new step,
// whose attempts (if any) the caller sets.
func (v *view) stamp(what string) map[string]string {
	return map[string]string{contract.AnnotationStep: what, contract.AnnotationStepAt: v.now.UTC().Format(time.RFC3339), contract.AnnotationAttempt: ""}
}

// fromLive turns a live object into one fit to apply: no status (its
// volume claim templates' neither), and of the metadata only the name,
// namespace, labels, annotations and resourceVersion.
func fromLive(live *unstructured.Unstructured) *unstructured.Unstructured {
	u := live.DeepCopy()
	delete(u.Object, "status")
	claims, _ := nested(u.Object, "spec", "volumeClaimTemplates").([]any)
	for _, c := range claims {
		if m, ok := c.(map[string]any); ok {
			delete(m, "status")
		}
	}
	meta := map[string]any{}
	old, _ := u.Object["metadata"].(map[string]any)
	for _, k := range []string{"name", "namespace", "labels", "annotations", "resourceVersion"} {
		if val, ok := old[k]; ok {
			meta[k] = val
		}
	}
	u.Object["metadata"] = meta
	return u
}

// stepAt is when the last step on a rack started, zero if unknown.
func (r *rack) stepAt() time.Time {
	if r.live == nil {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, r.live.annotations[contract.AnnotationStepAt])
	if err != nil {
		return time.Time{}
	}
	return t
}

// lastStep is the latest step started on any rack: its rack and time.
func (v *view) lastStep() (*rack, time.Time) {
	var last *rack
	var at time.Time
	for _, r := range v.racks {
		if t := r.stepAt(); t.After(at) {
			last, at = r, t
		}
	}
	return last, at
}
