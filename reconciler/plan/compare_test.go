package plan

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/internal/jsontree"
)

func TestCovers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		want, live any
		covered    bool
	}{
		{"equal scalars", "a", "a", true},
		{"different strings", "a", "b", false},
		{"live has more keys (defaults)", map[string]any{"a": "x"}, map[string]any{"a": "x", "b": "y"}, true},
		{"missing key", map[string]any{"a": "x"}, map[string]any{}, false},
		{"empty map may be missing", map[string]any{"resources": map[string]any{}}, map[string]any{}, true},
		{"empty list may be missing", map[string]any{"args": []any{}}, map[string]any{}, true},
		{"empty string may be missing", map[string]any{"a": ""}, map[string]any{}, true},
		{"null may be missing", map[string]any{"creationTimestamp": nil}, map[string]any{}, true},
		{"int64 and float64", int64(3), float64(3), true},
		{"int64 and int", int64(3), 3, true},
		{"numbers differ", int64(3), int64(4), false},
		{"number and string", int64(3), "3", false},
		{"canonicalised quantity", "1000m", "1", true},
		{"canonicalised memory", "1024Mi", "1Gi", true},
		{"different quantities", "1Gi", "2Gi", false},
		{"text that is no quantity", "abc", "abd", false},
		{"lists elementwise", []any{map[string]any{"name": "a"}}, []any{map[string]any{"name": "a", "x": int64(1)}}, true},
		{"lists of other length", []any{"a"}, []any{"a", "b"}, false},
		{"bools", true, false, false},
		{"map against scalar", map[string]any{"a": "x"}, "x", false},
		{"nested difference", map[string]any{"spec": map[string]any{"image": "c:1"}}, map[string]any{"spec": map[string]any{"image": "c:2"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.covered, Covers(tc.want, tc.live))
		})
	}
}

func TestFirstDifference(t *testing.T) {
	want := map[string]any{"spec": map[string]any{"containers": []any{
		map[string]any{"name": "cassandra", "env": []any{map[string]any{"name": "A", "value": "1"}}},
	}}}
	live := jsontree.Copy(want).(map[string]any)
	require.Equal(t, "", firstDifference(want, live, "spec.template"))
	live["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["env"].([]any)[0].(map[string]any)["value"] = "2"
	require.Equal(t, "spec.template.spec.containers[cassandra].env[A].value", firstDifference(want, live, "spec.template"))
}

func TestDescribeChange(t *testing.T) {
	tmpl := func(image, seeds, hash string) any {
		return map[string]any{
			"metadata": map[string]any{"annotations": map[string]any{"ringops.dev/config-hash": hash}},
			"spec": map[string]any{"containers": []any{map[string]any{"name": "cassandra", "image": image,
				"env": []any{map[string]any{"name": "CASSANDRA_SEEDS", "value": seeds}}}}},
		}
	}
	old := tmpl("cassandra:4.1.4", "a.x,b.x", "h1")
	require.Equal(t, "image cassandra:4.1.4 -> cassandra:4.1.5", describeChange(tmpl("cassandra:4.1.5", "a.x,b.x", "h1"), old))
	require.Equal(t, "seed list 2 seeds -> 3 seeds", describeChange(tmpl("cassandra:4.1.4", "a.x,b.x,c.x", "h1"), old))
	require.Equal(t, "configuration", describeChange(tmpl("cassandra:4.1.4", "a.x,b.x", "h2"), old))
	require.Equal(t, "image cassandra:4.1.4 -> cassandra:4.1.5, configuration", describeChange(tmpl("cassandra:4.1.5", "a.x,b.x", "h2"), old))
	// A rotation of the agent's credentials is named, also when a staged
	// seed list rolls with it.
	rotated := tmpl("cassandra:4.1.4", "a.x,b.x,c.x", "h1")
	asMap(rotated)["metadata"].(map[string]any)["annotations"].(map[string]any)["ringops.dev/jolokia-rotate"] = "second"
	require.Equal(t, "seed list 2 seeds -> 3 seeds, Jolokia credentials rotated", describeChange(rotated, old))
}

// TestFromLive: the object applied to a StatefulSet of a removed
// datacenter is the live one without what the API server owns.
func TestFromLive(t *testing.T) {
	d, o := goldenInput(t, "testdata/plan/dc-removed-while-nodes-left")
	p := Next(d, o)
	require.Len(t, p.Steps, 1)
	u := p.Steps[0].Objects[0]
	require.NotContains(t, u.Object, "status")
	require.Equal(t, []string{"annotations", "labels", "name", "namespace", "resourceVersion"}, sortedKeys(u.Object["metadata"].(map[string]any)))
	for _, c := range nested(u.Object, "spec", "volumeClaimTemplates").([]any) {
		require.NotContains(t, c, "status")
	}
	require.Equal(t, "orders-dc2-r2-0", u.GetAnnotations()[contract.AnnotationDecommission])
}
