package review

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
	"github.com/ringops/ringops/render"
)

// causeConfig: spec.config.cassandra-yaml changed (the ConfigMap's hash).
const causeConfig = "configuration (spec.config)"

// envCauses names the contract's variables that stand for a setting.
var envCauses = map[string]string{
	"CASSANDRA_NUM_TOKENS": causeConfig,
	"JVM_EXTRA_OPTS":       "JVM options",
}

// restartCauses says, in words, why the pod template of a rack's
// StatefulSet differs between base and head; nil when it does not (the
// pods then do not restart).
func restartCauses(base, head *unstructured.Unstructured) []string {
	bt, _ := jsontree.Copy(nested(base.Object, "spec", "template")).(map[string]any)
	ht, _ := jsontree.Copy(nested(head.Object, "spec", "template")).(map[string]any)
	if reflect.DeepEqual(bt, ht) {
		return nil
	}
	var causes []string
	causes = append(causes, imageCauses(bt, ht)...)
	causes = append(causes, envCausesOf(cassandra(bt), cassandra(ht))...)
	causes = append(causes, annotationCauses(bt, ht)...)
	causes = append(causes, resourceCauses(cassandra(bt), cassandra(ht))...)
	for _, f := range []string{"labels", "annotations"} {
		if !reflect.DeepEqual(nested(bt, "metadata", f), nested(ht, "metadata", f)) {
			causes = append(causes, "pod "+f)
		}
		deleteNested(bt, "metadata", f)
		deleteNested(ht, "metadata", f)
	}
	if !reflect.DeepEqual(bt, ht) {
		causes = append(causes, "pod template ("+firstDifference("spec.template", bt, ht, 5)+")")
	}
	return dedupe(causes)
}

// imageCauses compares the images of every container; an init container
// following the Cassandra image is not named again. Images are removed.
func imageCauses(bt, ht map[string]any) []string {
	bi, _ := cassandra(bt)["image"].(string)
	hi, _ := cassandra(ht)["image"].(string)
	var others []string
	for _, list := range []string{"containers", "initContainers"} {
		for name, bc := range containers(bt, list) {
			hc := containers(ht, list)[name]
			if hc == nil {
				continue
			}
			b, _ := bc["image"].(string)
			h, _ := hc["image"].(string)
			if b != h && name != render.ContainerCassandra && !(b == bi && h == hi) {
				others = append(others, fmt.Sprintf("image of %s %s -> %s", name, b, h))
			}
			delete(bc, "image")
			delete(hc, "image")
		}
	}
	slices.Sort(others)
	if bi != hi {
		return append([]string{"image " + bi + " -> " + hi}, others...)
	}
	return others
}

// envSeeds is never a cause of a restart: the planner writes into a
// StatefulSet its own seed list (the rendered seeds that have joined)
// when it writes the template for another change (seedOps).
const envSeeds = "CASSANDRA_SEEDS"

// envCausesOf compares the Cassandra container's environment.
func envCausesOf(bc, hc map[string]any) []string {
	be, he := envMap(bc), envMap(hc)
	var causes, other []string
	for _, name := range unionKeys(be, he) {
		if be[name] == he[name] || name == envSeeds {
			continue
		}
		if c, ok := envCauses[name]; ok {
			causes = append(causes, c)
		} else {
			other = append(other, name)
		}
	}
	delete(bc, "env")
	delete(hc, "env")
	if len(other) > 0 {
		causes = append(causes, "environment ("+join(other, ", ")+")")
	}
	return causes
}

// annotationCauses: the configuration hash (the ConfigMap's data).
func annotationCauses(bt, ht map[string]any) []string {
	b := nested(bt, "metadata", "annotations", contract.AnnotationConfigHash)
	h := nested(ht, "metadata", "annotations", contract.AnnotationConfigHash)
	deleteNested(bt, "metadata", "annotations", contract.AnnotationConfigHash)
	deleteNested(ht, "metadata", "annotations", contract.AnnotationConfigHash)
	for _, t := range []map[string]any{bt, ht} {
		if a, ok := nested(t, "metadata", "annotations").(map[string]any); ok && len(a) == 0 {
			deleteNested(t, "metadata", "annotations")
		}
	}
	if b != h {
		return []string{causeConfig}
	}
	return nil
}

// resourceCauses: "resources (requests.cpu 500m -> 1, limits.memory 2Gi -> 4Gi)".
func resourceCauses(bc, hc map[string]any) []string {
	br, _ := bc["resources"].(map[string]any)
	hr, _ := hc["resources"].(map[string]any)
	delete(bc, "resources")
	delete(hc, "resources")
	if reflect.DeepEqual(br, hr) {
		return nil
	}
	var parts []string
	for _, kind := range []string{"requests", "limits"} {
		b, _ := br[kind].(map[string]any)
		h, _ := hr[kind].(map[string]any)
		for _, name := range unionKeys(b, h) {
			bv, hv := quantity(b[name]), quantity(h[name])
			if bv != hv {
				parts = append(parts, fmt.Sprintf("%s.%s %s -> %s", kind, name, bv, hv))
			}
		}
	}
	if len(parts) == 0 {
		return []string{"resources"}
	}
	return []string{"resources (" + join(parts, ", ") + ")"}
}

func quantity(v any) string {
	if v == nil {
		return "none"
	}
	return fmt.Sprint(v)
}

// cassandra is the Cassandra container of a pod template (an empty map
// when there is none).
func cassandra(tmpl map[string]any) map[string]any {
	if c := containers(tmpl, "containers")[render.ContainerCassandra]; c != nil {
		return c
	}
	return map[string]any{}
}

// containers maps the containers of a list by name.
func containers(tmpl map[string]any, list string) map[string]map[string]any {
	out := map[string]map[string]any{}
	items, _ := nested(tmpl, "spec", list).([]any)
	for _, it := range items {
		if m, ok := it.(map[string]any); ok {
			name, _ := m["name"].(string)
			out[name] = m
		}
	}
	return out
}

// envMap maps a container's variables to their value (or valueFrom, as JSON).
func envMap(c map[string]any) map[string]string {
	out := map[string]string{}
	env, _ := c["env"].([]any)
	for _, e := range env {
		m, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name, _ := m["name"].(string)
		if v, ok := m["value"].(string); ok {
			out[name] = v
			continue
		}
		b, _ := json.Marshal(m["valueFrom"])
		out[name] = "valueFrom:" + string(b)
	}
	return out
}

// firstDifference is the path of the first field (keys sorted) where a
// and b differ, at most depth fields below prefix.
func firstDifference(prefix string, a, b any, depth int) string {
	if depth == 0 {
		return prefix
	}
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		for _, k := range unionKeys(am, bm) {
			if !reflect.DeepEqual(am[k], bm[k]) {
				return firstDifference(prefix+"."+k, am[k], bm[k], depth-1)
			}
		}
		return prefix
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			if !reflect.DeepEqual(al[i], bl[i]) {
				return firstDifference(fmt.Sprintf("%s[%s]", prefix, elementName(al[i], i)), al[i], bl[i], depth-1)
			}
		}
	}
	return prefix
}

// elementName is a list element's name field, else its index.
func elementName(v any, i int) string {
	if m, ok := v.(map[string]any); ok {
		if n, ok := m["name"].(string); ok && n != "" {
			return n
		}
	}
	return fmt.Sprint(i)
}

// nested returns the value at path in an unstructured object, nil if absent.
func nested(obj map[string]any, path ...string) any {
	var cur any = obj
	for _, p := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func deleteNested(obj map[string]any, path ...string) {
	parent, ok := nested(obj, path[:len(path)-1]...).(map[string]any)
	if ok {
		delete(parent, path[len(path)-1])
	}
}

// unionKeys returns the keys of both maps, sorted.
func unionKeys[V any](a, b map[string]V) []string {
	var out []string
	for k := range a {
		out = append(out, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func dedupe(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// describeSeeds is "seed list 6 -> 9 seeds (+a, +b, +c)": the seeds
// (pod names) that come and go; "" when none does.
func describeSeeds(base, head []string) string {
	var moves []string
	for _, s := range head {
		if !slices.Contains(base, s) {
			moves = append(moves, "+"+render.SeedPod(s))
		}
	}
	for _, s := range base {
		if !slices.Contains(head, s) {
			moves = append(moves, "-"+render.SeedPod(s))
		}
	}
	if len(moves) == 0 {
		return ""
	}
	const shown = 6
	if len(moves) > shown {
		moves = append(moves[:shown], fmt.Sprintf("%d more", len(moves)-shown))
	}
	return fmt.Sprintf("seed list %d -> %s (%s)", len(base), plural(len(head), "seed"), join(moves, ", "))
}
