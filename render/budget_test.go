package render

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// aliasBomb is a few hundred bytes of YAML whose aliases expand to 300,000
// nodes (each level ten times the one before); issue 21's 346 bytes reached
// 2.4 GB inside kustomize.
const aliasBomb = `a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: [*e, *e, *e]
`

func TestComponentAliasBudget(t *testing.T) {
	resource := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb, namespace: cassandra}\nbomb:\n" + indent(aliasBomb, "  ")
	for _, tc := range []struct {
		name  string
		files map[string]string
		file  string
		field string
	}{
		{"in a resource file", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [bomb.yaml]\n",
			"bomb.yaml":          resource,
		}, "bomb.yaml", ""},
		{"in a file nothing names", map[string]string{
			"kustomization.yaml": componentHeader,
			"notes/bomb.yml":     aliasBomb,
		}, "notes/bomb.yml", ""},
		{"in an inline patch", map[string]string{
			"kustomization.yaml": componentHeader + "patches:\n- target: {kind: ConfigMap}\n  patch: |\n" + indent("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: orders-config}\nbomb:\n"+indent(aliasBomb, "  "), "    "),
		}, "kustomization.yaml", "patches[0].patch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := renderEUWest(t, regionFS(tc.files), Options{})
			requireFileError(t, err, ErrTooLarge, regionDir+"/"+tc.file, tc.field)
			assert.Contains(t, err.Error(), "more than 100000 YAML nodes once anchors (&) and aliases (*) are expanded")
		})
	}
}

// TestComponentAliasWithinBudget: anchors and aliases are fine in a real
// Component (a patch reused), and a file that is not YAML is not counted.
func TestComponentAliasWithinBudget(t *testing.T) {
	_, err := renderEUWest(t, regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "patches:\n- path: p.yaml\nconfigMapGenerator:\n- {name: extra, files: [app.properties]}\n",
		"p.yaml":             "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: orders-dc1-r1, namespace: cassandra, annotations: &a {team: db}}\nspec: {template: {metadata: {annotations: *a}}}\n",
		"app.properties":     "a: [unclosed\n: : :\n",
	}), Options{})
	require.NoError(t, err)
}

// TestRenderDeadline: a render past Options.Timeout returns ErrDeadline
// (and context.DeadlineExceeded) instead of holding its caller; here the
// deadline passes while it waits for the kustomize lock another build
// holds.
func TestRenderDeadline(t *testing.T) {
	krustyLock <- struct{}{}
	defer func() { <-krustyLock }()
	start := time.Now()
	_, err := renderEUWest(t, regionFS(nil), Options{Timeout: 50 * time.Millisecond})
	require.ErrorIs(t, err, ErrDeadline)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 5*time.Second)
	assert.True(t, strings.HasPrefix(err.Error(), "cluster orders: context eu-west: "), "%v", err)
	assert.False(t, errors.Is(err, context.Canceled))
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	return prefix + strings.Join(lines, prefix) + "\n"
}

// TestComponentMappingKeys: kustomize's time grows with the square of a
// mapping's size, so one mapping may hold at most MaxMappingKeys keys.
func TestComponentMappingKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big, namespace: cassandra}\ndata:\n")
	for i := range MaxMappingKeys + 1 {
		b.WriteString("  k" + strconv.Itoa(i) + ": v\n")
	}
	_, err := renderEUWest(t, regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "resources: [big.yaml]\n",
		"big.yaml":           b.String(),
	}), Options{})
	requireFileError(t, err, ErrTooLarge, regionDir+"/big.yaml", "")
	assert.Contains(t, err.Error(), "line 5: a mapping of 2001 keys, over the limit of 2000")
}
