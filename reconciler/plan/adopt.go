package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
	"github.com/ringops/ringops/render"
)

// Adoption in place of a ring CassKop made (#20), with spec.adopt.
//
// CassKop names its StatefulSets and headless Service as ringops does, so
// a rack whose StatefulSet CassKop made (Context.Foreign) is taken over
// by name, with no pod restart:
//
//	CassKop's ──AdoptStatefulSet: its selector and volumeClaimTemplates (immutable) and its
//	           pod template kept, ringops' pod labels added, partition = replicas;
//	           its pods and claims labelled in place──▶ adopted, template pinned
//	adopted, pods left unlabelled (the executor stopped between the apply and the labels)
//	           ──AdoptStatefulSet again, over the live template──▶ adopted
//	pinned ──the rendered template hashes as at adoption──▶ pinned (CassKop's template applied)
//	pinned ──a change that needs a restart (image, configuration, ...)──▶ the usual
//	           staged roll to ringops' template (with CassKop's selector labels), rack by rack, gated
//	pinned ──a node joins that the seed list CassKop wrote (NodeSeeds) does not fit (it names
//	           the node, or no node up)──▶ ringops' template with the effective list (adoptedJoin)
//
// The pin is contract.AnnotationAdoptedTemplate: the TemplateHash of the
// template ringops rendered when it adopted the rack. Its objects other
// than StatefulSets are adopted by name in the same batch, after the
// racks (the Service selects the pods by ringops' labels once they have
// them); CassKop's PodDisruptionBudget <cluster>, which ringops replaces
// by one per datacenter, is deleted once every rack of the context is
// adopted (a pod under two budgets cannot be evicted). Nothing is adopted
// while a CassKop operator runs in the namespace (Context.Operators): it
// would write the objects back.

// TemplateHash is what pins an adopted pod template: the SHA-256 (first 16
// hex digits) of a rendered pod template's JSON, its seed list blanked
// (the seeds follow the ring, not the spec).
func TemplateHash(tmpl any) string {
	b, err := json.Marshal(WithSeeds(tmpl, ""))
	if err != nil { // decoded JSON: it always encodes
		panic(fmt.Sprintf("plan: template hash: %v", err))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// indexForeign indexes a context's Foreign objects: StatefulSets by name,
// the others by ObjectKey.
func indexForeign(lc *liveContext, oc *Context) {
	lc.foreign = map[string]*unstructured.Unstructured{}
	lc.foreignSTS = map[string]*unstructured.Unstructured{}
	for _, u := range oc.Foreign {
		if u == nil {
			continue
		}
		if isStatefulSet(u) {
			lc.foreignSTS[u.GetName()] = u
		} else {
			lc.foreign[ObjectKey(u)] = u
		}
	}
	lc.foreignPods = oc.ForeignPods
	lc.operators = oc.Operators
}

// adopting reports whether r's StatefulSet is to be adopted: CassKop's
// still, or adopted with pods or claims left to label (unlabelled).
func (r *rack) adopting() bool { return (r.live == nil && r.foreign != nil) || r.unlabelled != "" }

// leftToLabel says what of r's adopted StatefulSet kube.AdoptStatefulSet
// is to label for ringops still, "" when nothing:
//
//   - a pod CassKop's labels still select, on the live current or update
//     revision: the executor stopped between the apply of an
//     AdoptStatefulSet and the labels of the pods (a crash, the
//     controller slow to name the revision). Until it has them, ringops
//     does not see it, its Service would not select it, and nothing else
//     may be done to the rack.
//   - the claim of a pod of it that ringops does not see: the
//     StatefulSet keeps CassKop's claim template (it cannot change), so
//     the controller makes the claim of a new node with CassKop's labels
//     only. Unseen, it would not be recorded with its node, nor marked
//     when its node is decommissioned (a later node would start on it,
//     which Cassandra refuses), nor grown. Labelled once no pod is left
//     on an older current revision: the executor labels those with the
//     update revision, which only an adoption, whose template they run,
//     may do.
func (r *rack) leftToLabel(lc *liveContext) string {
	s := r.live
	if s == nil || s.annotations[contract.AnnotationAdopted] == "" {
		return ""
	}
	for _, p := range lc.foreignPods {
		if _, ok := ordinalOf(p.Name, r.name); !ok {
			continue
		}
		if rev := p.Labels[contract.LabelRevision]; rev != "" && (rev == s.currentRev || rev == s.updateRev) {
			return "pod " + p.Name + " not labelled for ringops yet (the last adoption stopped half way)"
		}
	}
	if s.observedGen < s.generation || s.updateRev == "" {
		return ""
	}
	var claim string
	for _, ord := range sortedOrdinals(r.pods) {
		p := r.pods[ord]
		rev := p.Labels[contract.LabelRevision]
		switch {
		case s.currentRev != s.updateRev && rev == s.currentRev:
			return "" // a roll first (a terminating pod too: the executor would label it)
		case ord < s.replicas && p.DeletionTimestamp == nil && r.pvcs[ord] == nil && claim == "" && (rev == s.currentRev || rev == s.updateRev):
			claim = "the claim of " + p.Name + " made from CassKop's claim template (without ringops' labels)" // else its roll first: the executor labels it then
		}
	}
	return claim
}

// rollBeforeGrowth: an adopted rack with pods on an older template rolls
// before it grows. The claim of its new node is made with CassKop's
// labels, and labelled for ringops only once no pod runs an older
// template (leftToLabel); until then ringops does not see it, and could
// not mark it if that node were decommissioned.
func (v *view) rollBeforeGrowth(r *rack) *candidate {
	if r.live.annotations[contract.AnnotationAdopted] == "" || r.nextRestart() < 0 {
		return nil
	}
	return v.roll()
}

// adoptDesired makes r's desired StatefulSet one that fits the adopted
// (or to be adopted) live one (AdoptedStatefulSet).
func (v *view) adoptDesired(r *rack) {
	switch {
	case r.foreign != nil:
		r.rendered = r.desired
		r.desired, _ = AdoptedStatefulSet(r.desired, r.foreign)
	case r.live != nil && r.live.annotations[contract.AnnotationAdopted] != "":
		r.rendered = r.desired
		r.desired, _ = AdoptedStatefulSet(r.desired, r.live.obj)
	}
}

// adoptedJoin is the pod template the next node of a rack whose adopted
// template is pinned joins with (joinTemplate): the pinned one when the
// seed list CassKop put in it (NodeSeeds) fits the node (seedsFit);
// else the planner cannot write the effective list into it, and the rack
// takes ringops' template, with the effective list (its running pods, if
// any, roll to it later; a rack emptied and growing again, whose first
// pod CassKop's list names, pays nothing). set loses the pin; kept says
// whether the pinned template stays.
func (v *view) adoptedJoin(r *rack, pod string, set map[string]string) (tmpl any, why string, kept bool) {
	tmpl = v.templateFor(r)
	list, _ := NodeSeeds(tmpl)
	if v.seedsFit(list, pod) {
		return tmpl, "; it joins on the adopted pod template, with that template's seeds", true
	}
	ours := selectable(nested(r.rendered.Object, "spec", "template"), r.live.obj)
	set[contract.AnnotationAdoptedTemplate] = ""
	why = "; the seed list of CassKop's template names no node that is up"
	if slices.ContainsFunc(SplitSeeds(list), func(s string) bool { return render.SeedPod(s) == pod }) {
		why = "; the seed list of CassKop's template names " + pod + " itself, which would then skip its bootstrap"
	}
	return WithSeeds(v.withBootstrapOption(r, ours), v.effectiveList()), why + ": the rack takes ringops' template", false
}

// NodeSeeds is the seed list a pod template starts its nodes with:
// its cassandra container's CASSANDRA_SEEDS, else, as CassKop writes it,
// an init container's (its bootstrap container writes the list into
// cassandra.yaml); false when none has one.
func NodeSeeds(tmpl any) (string, bool) {
	if s, ok := SeedsOf(tmpl); ok {
		return s, true
	}
	inits, _ := nested(asMap(tmpl), "spec", "initContainers").([]any)
	for _, c := range inits {
		env, _ := asMap(c)["env"].([]any)
		for _, e := range env {
			if m := asMap(e); m["name"] == seedsEnv && m["valueFrom"] == nil {
				s, ok := m["value"].(string)
				return s, ok
			}
		}
	}
	return "", false
}

// AdoptedStatefulSet is the StatefulSet ringops applies over live, one
// it adopted or CassKop made (not labelled for ringops), instead of
// rendered: live's selector and volumeClaimTemplates, which cannot
// change (but, once adopted, the data claim's storage request grows to
// the rendered one: the StatefulSet is re-created for it and its claims
// grown, as any rack's); then, when live is CassKop's, or the pin on it
// holds (the rendered template hashes as when it was adopted), live's pod
// template with the rendered template's labels added (pinned, no pod
// restarts); else the rendered template with the selector's labels added
// (a template must match its selector): the rack rolls to it.
func AdoptedStatefulSet(rendered, live *unstructured.Unstructured) (_ *unstructured.Unstructured, pinned bool) {
	want := rendered.DeepCopy()
	spec := specOf(want)
	spec["selector"] = jsontree.Copy(nested(live.Object, "spec", "selector"))
	theirs := metaString(asMap(nested(live.Object, "metadata", "labels")), contract.LabelManagedBy) != contract.ManagedBy
	spec["volumeClaimTemplates"] = liveClaims(live)
	if !theirs {
		spec["volumeClaimTemplates"] = grownClaims(liveClaims(live), DataClaimSize(rendered))
	}
	tmpl := nested(rendered.Object, "spec", "template")
	ann := want.GetAnnotations()
	if ann == nil {
		ann = map[string]string{}
	}
	liveAnn := live.GetAnnotations()
	ann[contract.AnnotationAdopted] = valueOr(liveAnn[contract.AnnotationAdopted], contract.AdoptedFromCassKop)
	hash := TemplateHash(tmpl)
	if pinned = theirs || liveAnn[contract.AnnotationAdoptedTemplate] == hash; pinned {
		kept := asMap(jsontree.Copy(nested(live.Object, "spec", "template")))
		addLabels(kept, templateLabels(tmpl))
		spec["template"] = kept
		ann[contract.AnnotationAdoptedTemplate] = hash
	} else {
		spec["template"] = selectable(tmpl, live)
	}
	want.SetAnnotations(ann)
	return want, pinned
}

// selectable is a copy of a rendered pod template with the labels of
// live's selector added (an adopted StatefulSet keeps its selector, and a
// template must match it).
func selectable(tmpl any, live *unstructured.Unstructured) map[string]any {
	ours := asMap(jsontree.Copy(tmpl))
	sel, _ := nested(live.Object, "spec", "selector", "matchLabels").(map[string]any)
	addLabels(ours, sel)
	return ours
}

// liveClaims is a copy of live's volumeClaimTemplates, without status.
func liveClaims(live *unstructured.Unstructured) []any {
	claims, _ := jsontree.Copy(nested(live.Object, "spec", "volumeClaimTemplates")).([]any)
	for _, c := range claims {
		if m, ok := c.(map[string]any); ok {
			delete(m, "status")
		}
	}
	return claims
}

// grownClaims is claims with the storage request of the "data" claim
// template raised to size (nil: as it is).
func grownClaims(claims []any, size *resource.Quantity) []any {
	for _, c := range claims {
		m := asMap(c)
		if size == nil || nested(m, "metadata", "name") != render.VolumeData {
			continue
		}
		req, _ := nested(m, "spec", "resources", "requests").(map[string]any)
		s, _ := req["storage"].(string)
		if have, err := resource.ParseQuantity(s); req != nil && (err != nil || have.Cmp(*size) < 0) {
			req["storage"] = size.String()
		}
	}
	return claims
}

// pinned reports whether r's desired StatefulSet keeps an adopted pod
// template.
func (r *rack) pinned() bool {
	return r.desired != nil && r.desired.GetAnnotations()[contract.AnnotationAdoptedTemplate] != ""
}

func templateLabels(tmpl any) map[string]any {
	l, _ := nested(asMap(tmpl), "metadata", "labels").(map[string]any)
	return l
}

// addLabels adds labels to a pod template's metadata.labels; a nil
// template stays nil.
func addLabels(tmpl map[string]any, labels map[string]any) {
	if len(labels) == 0 || tmpl == nil {
		return
	}
	meta := asMap(tmpl["metadata"])
	if meta == nil {
		meta = map[string]any{}
		tmpl["metadata"] = meta
	}
	l := asMap(meta["labels"])
	if l == nil {
		l = map[string]any{}
		meta["labels"] = l
	}
	maps.Copy(l, labels)
}

func valueOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// adopt is the step that takes r's StatefulSet over from CassKop, or
// finishes the adoption of one whose pods are left to label: the same
// apply, over its live template (the one those pods run: the adoption
// kept CassKop's) and partition, then the labels.
func (v *view) adopt(r *rack) Step {
	pods := v.foreignPodsOf(r)
	if r.foreign == nil {
		u := v.writeTemplate(r, nested(r.live.obj.Object, "spec", "template"), r.live.replicas, r.live.partition, nil)
		specOf(u)["volumeClaimTemplates"] = liveClaims(r.live.obj) // immutable: a storage growth re-creates it later
		return Step{Action: AdoptStatefulSet, Context: r.ctx, Target: refOf(r.live.obj), Objects: []*unstructured.Unstructured{u},
			From: r.live.replicas, To: r.live.replicas,
			Reason: fmt.Sprintf("adopted StatefulSet %s labelled again in place: %s, 0 restarts", r.name, r.unlabelled)}
	}
	n, _ := nestedInt(r.foreign.Object, "spec", "replicas")
	u := v.writeTemplate(r, nested(r.desired.Object, "spec", "template"), int32(n), int32(n), nil)
	u.SetResourceVersion(r.foreign.GetResourceVersion())
	return Step{Action: AdoptStatefulSet, Context: r.ctx, Target: refOf(r.foreign), Objects: []*unstructured.Unstructured{u},
		From: int32(n), To: int32(n),
		Reason: fmt.Sprintf("adopts CassKop's StatefulSet %s in place: %s labelled for ringops, 0 restarts; CassKop's pod template stays until a change needs a restart",
			r.name, plural(len(pods), "running pod"))}
}

// foreignPodsOf names the pods of r's StatefulSet that CassKop's labels
// still select (not labelled for ringops yet).
func (v *view) foreignPodsOf(r *rack) []string {
	lc := v.live[r.ctx]
	if lc == nil {
		return nil
	}
	var out []string
	for _, p := range lc.foreignPods {
		if _, ok := ordinalOf(p.Name, r.name); ok {
			out = append(out, p.Name)
		}
	}
	return out
}

// adoptionWait: racks of kc are CassKop's still while a CassKop operator
// runs there. Nothing is adopted until it is stopped.
func (v *view) adoptionWait() *Wait {
	for _, kc := range v.contexts {
		lc := v.live[kc]
		if lc == nil || len(lc.operators) == 0 || (len(lc.foreignSTS) == 0 && len(lc.foreign) == 0 && len(lc.foreignPods) == 0) {
			continue
		}
		return &Wait{Reason: Blocked, Context: kc, Message: "ringops adopts CassKop's objects of " + v.name + " in " + kc +
			" in place once CassKop's operator is stopped, so that the two do not write them in turn: " + strings.Join(lc.operators, "; ")}
	}
	return nil
}

// dropCassKop is the steps that delete what CassKop made in kc and
// ringops replaces by objects of its own (its PodDisruptionBudget), once
// no rack of kc is left to adopt.
func (v *view) dropCassKop(kc string) []Step {
	lc := v.live[kc]
	for _, r := range v.racks {
		if r.ctx == kc && r.adopting() {
			return nil
		}
	}
	var steps []Step
	for _, k := range sortedKeys(lc.foreign) {
		u := lc.foreign[k]
		if u.GetKind() != "PodDisruptionBudget" || v.rendered(kc, k) {
			continue
		}
		steps = append(steps, Step{Action: DeleteCassKopObject, Context: kc, Target: refOf(u),
			Reason: "CassKop's PodDisruptionBudget " + u.GetName() + " goes: ringops' own covers the adopted pods (a pod under two budgets cannot be evicted)"})
	}
	return steps
}

// rendered reports whether the revision renders the object of key in kc.
func (v *view) rendered(kc, key string) bool {
	for _, u := range v.objects[kc] {
		if ObjectKey(u) == key {
			return true
		}
	}
	return false
}
