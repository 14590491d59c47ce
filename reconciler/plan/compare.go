package plan

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Covers reports whether live holds every field of want with an equal
// value: the live object may have more (defaults the API server filled
// in, status, fields of other managers). It is how the planner sees
// whether an object is as rendered, without knowing every default:
//
//   - maps: every key of want is in live with a covered value; a key whose
//     value is empty (null, {}, [], "") may be missing from live;
//   - lists: same length, each element covered;
//   - numbers compare by value (int64, float64 and int mix);
//   - strings are equal, or are quantities of the same value ("1000m" and
//     "1", which the API server canonicalises).
func Covers(want, live any) bool {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return live == nil && len(w) == 0
		}
		return coversMap(w, l)
	case []any:
		l, ok := live.([]any)
		if !ok {
			return live == nil && len(w) == 0
		}
		if len(w) != len(l) {
			return false
		}
		for i := range w {
			if !Covers(w[i], l[i]) {
				return false
			}
		}
		return true
	case string:
		l, ok := live.(string)
		if !ok {
			return live == nil && w == ""
		}
		return w == l || sameQuantity(w, l)
	case nil:
		return true
	}
	if wn, ok := number(want); ok {
		ln, ok := number(live)
		return ok && wn == ln
	}
	return want == live
}

func coversMap(w, l map[string]any) bool {
	for k, wv := range w {
		lv, ok := l[k]
		if !ok {
			if isEmpty(wv) {
				continue
			}
			return false
		}
		if !Covers(wv, lv) {
			return false
		}
	}
	return true
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case map[string]any:
		return len(t) == 0
	case []any:
		return len(t) == 0
	case string:
		return t == ""
	}
	return false
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// sameQuantity reports whether two different strings are the same
// Kubernetes quantity. Only strings starting like a number are parsed.
func sameQuantity(a, b string) bool {
	if !numeric(a) || !numeric(b) {
		return false
	}
	qa, err := resource.ParseQuantity(a)
	if err != nil {
		return false
	}
	qb, err := resource.ParseQuantity(b)
	return err == nil && qa.Cmp(qb) == 0
}

func numeric(s string) bool {
	return s != "" && strings.IndexByte("0123456789.+-", s[0]) >= 0
}

// firstDifference returns the path of the first field of want (in sorted
// key order) that live does not cover, "" if none.
func firstDifference(want, live any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		l, _ := live.(map[string]any)
		if l == nil {
			if Covers(want, live) {
				return ""
			}
			return path
		}
		for _, k := range sortedKeys(w) {
			lv, ok := l[k]
			if !ok && isEmpty(w[k]) {
				continue
			}
			if p := firstDifference(w[k], lv, join(path, k)); p != "" {
				return p
			}
		}
		return ""
	case []any:
		l, _ := live.([]any)
		if len(l) != len(w) {
			if Covers(want, live) {
				return ""
			}
			return path
		}
		for i := range w {
			if p := firstDifference(w[i], l[i], path+"["+itemName(w[i], i)+"]"); p != "" {
				return p
			}
		}
		return ""
	}
	if Covers(want, live) {
		return ""
	}
	return path
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// itemName names a list item by its name field when it has one
// (containers, env, ports), else by index.
func itemName(v any, i int) string {
	if m, ok := v.(map[string]any); ok {
		if n, ok := m["name"].(string); ok && n != "" {
			return n
		}
	}
	return itoa(i)
}
