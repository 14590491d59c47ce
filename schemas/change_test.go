package schemas

import (
	"path/filepath"
	"testing"
)

func TestValidateChangeOfNothing(t *testing.T) {
	files, _ := filepath.Glob("testdata/valid/*.yaml")
	for _, f := range files {
		c, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		if errs := ValidateChange(c, c); len(errs) > 0 {
			t.Errorf("%s: a spec compared with itself: %v", f, errs)
		}
		if errs := ValidateChange(nil, c); len(errs) > 0 {
			t.Errorf("%s: a new cluster: %v", f, errs)
		}
	}
}

func TestValidateChangeWithoutPositions(t *testing.T) {
	prev := cluster("o", map[string][]string{"dc1": {"r1"}, "dc2": {"r1"}}, "dc1", "dc2")
	next := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
	errs := ValidateChange(prev, next)
	want := "spec.datacenters: datacenter dc2 was removed while it still has 1 node; scale it to 0 first (nodesPerRack: 0; ALTER KEYSPACE its replication away before), let that roll out, then remove it"
	if errs.Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
}
