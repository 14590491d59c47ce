package jsontree

import (
	"reflect"
	"testing"
)

// TestCopy: the copy is equal, shares no map or slice with the original
// (a change to either leaves the other), and keeps yaml.v3's int values,
// which runtime.DeepCopyJSONValue refuses.
func TestCopy(t *testing.T) {
	orig := map[string]any{"a": []any{1, int64(2), 3.5, "x", nil, map[string]any{"b": true}}, "c": map[string]any{}}
	got := Copy(orig).(map[string]any)
	if !reflect.DeepEqual(got, orig) {
		t.Fatalf("copy %v, want %v", got, orig)
	}
	got["a"].([]any)[5].(map[string]any)["b"] = false
	got["c"].(map[string]any)["d"] = 1
	got["a"].([]any)[0] = 9
	if orig["a"].([]any)[5].(map[string]any)["b"] != true || len(orig["c"].(map[string]any)) != 0 || orig["a"].([]any)[0] != 1 {
		t.Errorf("the original changed with its copy: %v", orig)
	}
	if Copy(nil) != nil || Copy("s") != "s" {
		t.Error("a scalar is not itself")
	}
}
