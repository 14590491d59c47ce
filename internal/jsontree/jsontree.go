// Package jsontree copies the generic trees that decoding JSON or YAML
// into an any gives (map[string]any, []any, scalars). It imports nothing:
// it is a leaf every stage may share. (k8s.io/apimachinery's
// runtime.DeepCopyJSONValue panics on the int values yaml.v3 decodes.)
package jsontree

// Copy returns a deep copy of v: its maps and slices copied all the way
// down, every other value (strings, numbers of any type, booleans, nil)
// as it is.
func Copy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, e := range t {
			m[k] = Copy(e)
		}
		return m
	case []any:
		l := make([]any, len(t))
		for i, e := range t {
			l[i] = Copy(e)
		}
		return l
	}
	return v
}
