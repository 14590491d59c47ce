package schemas

import "testing"

func TestChangeWarningsOfNothing(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
	c.Spec.Keyspaces = []Keyspace{{Name: "orders", Replication: map[string]int32{"dc1": 1}}}
	if w := ChangeWarnings(c, c); len(w) > 0 {
		t.Errorf("no change: %v", w)
	}
	if w := ChangeWarnings(nil, c); len(w) > 0 {
		t.Errorf("a new cluster: %v", w)
	}
	next := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
	w := ChangeWarnings(c, next)
	want := "spec.keyspaces: keyspace orders is no longer in spec.keyspaces: ringops stops managing its replication and leaves it as it is (it never drops a keyspace); list it again to manage it"
	if w.Error() != want {
		t.Errorf("got %v\nwant %s", w, want)
	}
	if errs := ValidateChange(c, next); len(errs) > 0 {
		t.Errorf("dropping a keyspace from the list is not refused: %v", errs)
	}
}
