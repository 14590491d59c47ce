package review

import (
	"fmt"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
)

// objChange is one rendered object that differs between the sides.
type objChange struct {
	change     ObjectChangeKind
	base, head *unstructured.Unstructured
}

func (o objChange) obj() *unstructured.Unstructured {
	if o.head != nil {
		return o.head
	}
	return o.base
}

// objectChanges compares the rendered objects of context kc: in the
// rendered order of head, then those only base has, in its order.
func (ch *change) objectChanges(kc string) []objChange {
	var baseObjs, headObjs []*unstructured.Unstructured
	if ch.base != nil && ch.base.manifests[kc] != nil {
		baseObjs = ch.base.manifests[kc].Objects
	}
	if m := ch.head.manifests[kc]; m != nil {
		headObjs = m.Objects
	}
	byKey := map[string]*unstructured.Unstructured{}
	for _, u := range baseObjs {
		byKey[objectKey(u)] = u
	}
	var out []objChange
	seen := map[string]bool{}
	for _, u := range headObjs {
		k := objectKey(u)
		seen[k] = true
		switch b := byKey[k]; {
		case b == nil:
			out = append(out, objChange{change: ObjectAdded, head: u})
		case !reflect.DeepEqual(b.Object, u.Object):
			out = append(out, objChange{change: ObjectChanged, base: b, head: u})
		}
	}
	for _, u := range baseObjs {
		if !seen[objectKey(u)] {
			out = append(out, objChange{change: ObjectRemoved, base: u})
		}
	}
	return out
}

func objectKey(u *unstructured.Unstructured) string {
	gvk := u.GroupVersionKind()
	return gvk.Group + "/" + gvk.Kind + "/" + u.GetNamespace() + "/" + u.GetName()
}

// applyOps: per region, the objects ringops applies at once, with no
// restart: those created, those updated (a StatefulSet only when neither
// its replicas, its pod template nor an immutable field changes: those
// are the other operations), those pruned.
func (ch *change) applyOps() []Operation {
	var ops []Operation
	for _, kc := range ch.contexts() {
		var created, updated, pruned []*unstructured.Unstructured
		for _, o := range ch.objectChanges(kc) {
			sts := o.obj().GetKind() == "StatefulSet"
			switch {
			case o.change == ObjectAdded:
				created = append(created, o.head)
			case o.change == ObjectChanged && (!sts || ch.inPlace[kc+"/"+o.head.GetName()]):
				updated = append(updated, o.head)
			case o.change == ObjectRemoved && !sts:
				pruned = append(pruned, o.base)
			}
		}
		var parts []string
		if len(created) > 0 && ch.base == nil && ch.head.spec.Spec.Adopt { // #20
			parts = append(parts, "created, or adopted where CassKop made them, "+objectList(created, " (adopted with their pods, or created empty)"))
		} else if len(created) > 0 {
			parts = append(parts, "created "+objectList(created, " (empty)"))
		}
		if len(updated) > 0 {
			parts = append(parts, "updated "+objectList(updated, ""))
		}
		if len(pruned) > 0 {
			parts = append(parts, "pruned "+objectList(pruned, "")+ch.pruneWhen(kc))
		}
		if len(parts) == 0 {
			continue
		}
		all := append(append(append([]*unstructured.Unstructured(nil), created...), updated...), pruned...)
		ops = append(ops, Operation{Kind: Apply, Context: kc, Objects: objectNames(all),
			Text: kc + ", applied at once: " + join(parts, "; ")})
	}
	return ops
}

// pruneWhen: when the planner prunes the objects of a region in the
// replay: after the StatefulSets it deletes there first (those of a
// removed datacenter, whose pods may still use the objects).
func (ch *change) pruneWhen(kc string) string {
	var dcs []string
	for _, s := range ch.steps {
		switch {
		case s.Context != kc:
		case s.Action == plan.Prune:
			if len(dcs) == 0 {
				return ""
			}
			return " (once the StatefulSets of " + joinAnd(dcs) + " are deleted)"
		case s.Action == plan.DeleteStatefulSet:
			if r := ch.rackOfStep(s); r != nil && !slices.Contains(dcs, r.dc) {
				dcs = append(dcs, r.dc)
			}
		}
	}
	return ""
}

// objectList is "ConfigMap orders-config, StatefulSets a, b (empty)":
// consecutive objects of a kind share it; stsNote follows StatefulSets.
func objectList(objs []*unstructured.Unstructured, stsNote string) string {
	var groups []string
	for i := 0; i < len(objs); {
		j := i
		var names []string
		for ; j < len(objs) && objs[j].GetKind() == objs[i].GetKind(); j++ {
			names = append(names, objs[j].GetName())
		}
		kind, note := objs[i].GetKind(), ""
		if kind == "StatefulSet" {
			note = stsNote
		}
		if len(names) > 1 {
			kind = pluralKind(kind)
		}
		groups = append(groups, kind+" "+join(names, ", ")+note)
		i = j
	}
	return join(groups, ", ")
}

func pluralKind(kind string) string {
	switch kind[len(kind)-1] {
	case 's':
		return kind + "es"
	case 'y':
		return kind[:len(kind)-1] + "ies"
	}
	return kind + "s"
}

func objectNames(objs []*unstructured.Unstructured) []string {
	out := make([]string, len(objs))
	for i, u := range objs {
		out[i] = u.GetKind() + " " + u.GetName()
	}
	return out
}

// diffs: per region whose rendered objects change, the objects and the
// unified diff of the rendered YAML.
func (ch *change) diffs(contextLines int) []ContextDiff {
	name := ch.head.spec.Metadata.Name
	var out []ContextDiff
	for _, kc := range ch.contexts() {
		changes := ch.objectChanges(kc)
		if len(changes) == 0 {
			continue
		}
		cd := ContextDiff{Context: kc}
		for _, o := range changes {
			u := o.obj()
			cd.Objects = append(cd.Objects, ObjectChange{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(), Change: o.change})
		}
		var a, b []byte
		var sa, sb []string
		la, lb := "/dev/null", "/dev/null"
		if m := ch.baseManifests(kc); m != nil {
			a, la = m.YAML(), fmt.Sprintf("base/%s/%s.yaml", name, kc)
			sa = lineObjects(a, m.Objects)
		}
		if m := ch.head.manifests[kc]; m != nil {
			b, lb = m.YAML(), fmt.Sprintf("head/%s/%s.yaml", name, kc)
			sb = lineObjects(b, m.Objects)
		}
		cd.Diff = unifiedDiff(a, b, la, lb, contextLines, func(line int, inA bool) string {
			if inA {
				return at(sa, line)
			}
			return at(sb, line)
		})
		out = append(out, cd)
	}
	return out
}

func (ch *change) baseManifests(kc string) *render.Manifests {
	if ch.base == nil {
		return nil
	}
	return ch.base.manifests[kc]
}

// lineObjects names, for every line of a rendered YAML (objects separated
// by "---" lines, as Manifests.YAML writes them), its object "Kind name".
func lineObjects(yaml []byte, objs []*unstructured.Unstructured) []string {
	var out []string
	i := 0
	for _, l := range splitLines(string(yaml)) {
		if l == "---\n" {
			i++
		}
		name := ""
		if i < len(objs) {
			name = objs[i].GetKind() + " " + objs[i].GetName()
		}
		out = append(out, name)
	}
	return out
}

func at(list []string, i int) string {
	if i < 0 || i >= len(list) {
		return ""
	}
	return list[i]
}
