package review

import (
	"strings"
	"testing"

	"github.com/ringops/ringops/schemas"
)

func TestCQLAuthNotes(t *testing.T) {
	spec := func(auth string) *schemas.CassandraCluster {
		c := &schemas.CassandraCluster{Metadata: schemas.ObjectMeta{Name: "orders"}}
		c.Spec.CQL = &schemas.CQL{Authentication: auth}
		return c
	}
	for _, tc := range []struct {
		name       string
		base, head *schemas.CassandraCluster
		want       []string // a part of each note, in order
	}{
		{"new cluster with Password", nil, spec("Password"), []string{"creates CQL role ringops (password in the Secret orders-cql"}},
		{"new cluster with None", nil, spec("None"), nil},
		{"switched on", spec("None"), spec("Password"), []string{"turns CQL authentication on", "creates CQL role ringops"}},
		{"switched off", spec("Password"), spec("None"), []string{"turns CQL authentication off"}},
		{"unchanged", spec("Password"), spec("Password"), nil},
		{"password rotated", spec("Password"), rotated(spec("Password"), "2026-12-07"), []string{"rotates the password of CQL role ringops: a new one in the Secret orders-cql"}},
		{"rotated again", rotated(spec("Password"), "2026-12-07"), rotated(spec("Password"), "2027-01-15"), []string{"rotates the password"}},
		{"token unchanged", rotated(spec("Password"), "2026-12-07"), rotated(spec("Password"), "2026-12-07"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := cqlAuthNotes(tc.base, tc.head)
			if len(got) != len(tc.want) {
				t.Fatalf("notes %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("note %d: %q, want %q in it", i, got[i], w)
				}
			}
		})
	}
}

func rotated(c *schemas.CassandraCluster, token string) *schemas.CassandraCluster {
	c.Spec.CQL.Rotate = token
	return c
}
