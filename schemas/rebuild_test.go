package schemas

import (
	"strings"
	"testing"
)

func TestValidateRebuildFrom(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
		emptyDC1        bool
	}{
		{name: "seed datacenter", src: "dc1"},
		{name: "itself", src: "dc2", want: "spec.datacenters[1].rebuildFrom: dc2 cannot rebuild from itself"},
		{name: "unknown", src: "dc3", want: "spec.datacenters[1].rebuildFrom: dc3 is not a datacenter of spec.datacenters (did you mean dc1?)"},
		{name: "no nodes", src: "dc1", emptyDC1: true, want: "spec.datacenters[1].rebuildFrom: dc1 has no nodes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := cluster("o", map[string][]string{"dc1": {"r1"}, "dc2": {"r1"}}, "dc1", "dc2")
			c.Spec.Datacenters[1].RebuildFrom = tc.src
			if tc.emptyDC1 {
				withNodes(c, 0, 0)
			}
			got := ""
			for _, e := range c.Validate() {
				if strings.Contains(e.Error(), "rebuildFrom") {
					got = e.Error()
				}
			}
			if tc.want == "" && got != "" || tc.want != "" && !strings.Contains(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
