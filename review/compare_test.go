package review

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// countingRenderer counts the renders per cluster directory.
type countingRenderer struct {
	r  *render.Renderer
	mu sync.Mutex
	n  map[string]int
}

func newCountingRenderer() *countingRenderer {
	return &countingRenderer{r: render.New(render.DefaultOptions()), n: map[string]int{}}
}

func (c *countingRenderer) Render(ctx context.Context, fsys fs.FS, dir string, cl *schemas.CassandraCluster, kc string) (*render.Manifests, error) {
	c.mu.Lock()
	c.n[dir]++
	c.mu.Unlock()
	return c.r.Render(ctx, fsys, dir, cl, kc)
}

// clusterYAML is a small valid cluster of three regions.
func clusterYAML(name, image string) string {
	return fmt.Sprintf(`apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: %s, namespace: cassandra}
spec:
  image: %s
  storage: {size: 10Gi}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}, {name: r2}]}
    - {name: dc2, context: us-east, racks: [{name: r1}]}
    - {name: dc3, context: ap-south, racks: [{name: r1}]}
`, name, image)
}

// repository is a MapFS of n clusters clusters/cNNN.
func repository(n int) fstest.MapFS {
	fsys := fstest.MapFS{}
	for i := range n {
		name := fmt.Sprintf("c%03d", i)
		fsys["clusters/"+name+"/"+SpecFile] = &fstest.MapFile{Data: []byte(clusterYAML(name, "cassandra:4.1.4"))}
	}
	return fsys
}

func clone(fsys fstest.MapFS) fstest.MapFS {
	out := fstest.MapFS{}
	for k, v := range fsys {
		cp := *v
		out[k] = &cp
	}
	return out
}

func compare(t testing.TB, base, head fs.FS, opts Options) *Document {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = goldenNow
	}
	doc, err := Compare(t.Context(), Tree{Revision{Name: "main"}, base}, Tree{Revision{Name: "topic"}, head}, opts)
	require.NoError(t, err)
	return doc
}

func TestOnlyChangedClustersAreRendered(t *testing.T) {
	base := repository(10)
	head := clone(base)
	head["clusters/c004/cluster.yaml"].Data = []byte(clusterYAML("c004", "cassandra:4.1.5"))
	head["clusters/c007/cluster.yaml"].Data = []byte("# a comment only\n" + clusterYAML("c007", "cassandra:4.1.4"))
	r := newCountingRenderer()
	doc := compare(t, base, head, Options{Renderer: r})

	assert.Equal(t, map[string]int{"clusters/c004": 6, "clusters/c007": 6}, r.n,
		"only the clusters whose files changed are rendered, each region once per side")
	require.Len(t, doc.Clusters, 1, "a comment changes no rendered object")
	assert.Equal(t, "c004: 4 restarts", doc.Summary)
	assert.Equal(t, 9, doc.Unchanged)
	assert.Equal(t, Changes, doc.Outcome)
}

func TestUnmodifiedInvalidClusterIsReported(t *testing.T) {
	base := repository(2)
	base["clusters/c001/cluster.yaml"].Data = []byte(strings.Replace(clusterYAML("c001", "cassandra:4.1.4"), "storage:", "storag:", 1))
	head := clone(base)
	r := newCountingRenderer()
	doc := compare(t, base, head, Options{Renderer: r})
	assert.Empty(t, r.n)
	assert.Equal(t, Invalid, doc.Outcome)
	require.Len(t, doc.Clusters, 1)
	assert.Equal(t, Unmodified, doc.Clusters[0].Change)
	assert.Contains(t, fmt.Sprint(doc.Clusters[0].Refused), "clusters/c001/cluster.yaml:6: spec.storag: unknown field")
}

func TestMovedClusterIsComparedWithItself(t *testing.T) {
	base := repository(1)
	head := fstest.MapFS{"teams/a/c000/cluster.yaml": &fstest.MapFile{Data: []byte(clusterYAML("c000", "cassandra:4.1.5"))}}
	doc := compare(t, base, head, Options{})
	require.Len(t, doc.Clusters, 1)
	cl := doc.Clusters[0]
	assert.Equal(t, Moved, cl.Change)
	assert.Equal(t, "clusters/c000", cl.BaseDir)
	assert.Equal(t, "c000: 4 restarts", doc.Summary, "a move is not a new cluster: no bootstrap")
}

func TestBaseThatDoesNotLoad(t *testing.T) {
	base := repository(1)
	base["clusters/c000/cluster.yaml"].Data = []byte("kind: [")
	head := repository(1)
	doc := compare(t, base, head, Options{})
	require.Len(t, doc.Clusters, 1)
	cl := doc.Clusters[0]
	assert.Equal(t, Changes, doc.Outcome, "a head that fixes a broken base is not refused")
	require.Len(t, cl.Notes, 2, "the base that does not load, and the CQL role of a cluster taken as new")
	assert.Contains(t, cl.Notes[0], "at base, this cluster does not load (clusters/c000/cluster.yaml:1:")
	assert.Contains(t, cl.Notes[1], "creates CQL role ringops")
}

func TestRefusedClusterHasNoOperations(t *testing.T) {
	doc := comparePair(t, "storage-shrink")
	cl := doc.Clusters[0]
	assert.NotEmpty(t, cl.Refused)
	assert.Empty(t, cl.Operations, "nothing of a refused revision is applied")
	assert.Empty(t, cl.Contexts)
}

func TestWindowOpenNow(t *testing.T) {
	base := repository(1)
	head := clone(base)
	spec := strings.Replace(clusterYAML("c000", "cassandra:4.1.5"), "  datacenters:",
		"  rollout:\n    windows: [{schedule: \"0 1 * * *\", duration: 4h}]\n  datacenters:", 1)
	head["clusters/c000/cluster.yaml"].Data = []byte(spec)

	doc := compare(t, base, head, Options{Now: time.Date(2026, 3, 1, 2, 30, 0, 0, time.UTC)})
	gate := lastOp(doc)
	assert.Equal(t, Gate, gate.Kind)
	assert.Equal(t, "change windows: one is open now, until 2026-03-01 05:00 UTC; the disruptive steps (4 restarts) run only inside windows, what is left when it closes waits for the next one (as of 2026-03-01 02:30 UTC)", gate.Text)

	doc = compare(t, base, head, Options{Now: time.Date(2026, 3, 1, 5, 30, 0, 0, time.UTC)})
	assert.Equal(t, `change windows: the disruptive steps (4 restarts) wait for the next window, 2026-03-02 01:00 UTC (schedule "0 1 * * *", open 4h), as of 2026-03-01 05:30 UTC`, lastOp(doc).Text)
}

func lastOp(doc *Document) Operation {
	ops := doc.Clusters[0].Operations
	return ops[len(ops)-1]
}

func TestMarkdownEscapesRepositoryText(t *testing.T) {
	base := repository(1)
	head := clone(base)
	head["clusters/c000/cluster.yaml"].Data = []byte(clusterYAML("c000", "cassandra:4.1.4") + "  <img src=x onerror=alert(1)>: 1\n")
	doc := compare(t, base, head, Options{})
	require.Equal(t, Invalid, doc.Outcome)
	md := string(doc.Markdown(DefaultMarkdownOptions()))
	assert.NotContains(t, md, "<img", "HTML from the repository is escaped")
	assert.Contains(t, md, "&lt;img src=x onerror=alert(1)&gt;")
}

func TestMarkdownIsCutToMaxBytes(t *testing.T) {
	doc := comparePair(t, "add-dc")
	full := doc.Markdown(MarkdownOptions{})
	require.Greater(t, len(full), 20000)
	cut := string(doc.Markdown(MarkdownOptions{MaxBytes: 8000}))
	assert.LessOrEqual(t, len(cut), 8000)
	assert.Contains(t, cut, "- +1 DC dc4 (eu-central)", "operations are never cut")
	assert.Contains(t, cut, "more lines left out to fit the comment")
	assert.Contains(t, cut, "diff left out, the comment is at its size limit")
	assert.Equal(t, strings.Count(cut, "<details>"), strings.Count(cut, "</details>"), "sections stay closed")
	assert.Equal(t, 0, strings.Count(cut, "```")%2, "code blocks stay closed")
}

func TestDocumentJSONRoundTrip(t *testing.T) {
	doc := comparePair(t, "scale-down-keyspaces")
	var back Document
	require.NoError(t, json.Unmarshal(doc.JSON(), &back))
	assert.Equal(t, *doc, back)
	assert.Equal(t, APIVersion, back.APIVersion)
	ops := back.Clusters[0].Operations
	require.NotEmpty(t, ops)
	assert.Equal(t, Decommission, ops[0].Kind)
	assert.Equal(t, []string{"orders-dc3-r2-1"}, ops[0].Pods)
}

func TestNothingToCompare(t *testing.T) {
	doc := compare(t, nil, fstest.MapFS{"README.md": &fstest.MapFile{Data: []byte("hi")}}, Options{})
	assert.Equal(t, NoChange, doc.Outcome)
	assert.Equal(t, "no change", doc.Summary)
}

// TestCompareRefusesTwoDirectoriesOfOneRing: a pull request copying a
// cluster's directory (same name and namespace) is refused, in both
// directories, each naming the other file; the unmodified one too.
func TestCompareRefusesTwoDirectoriesOfOneRing(t *testing.T) {
	base := repository(1)
	head := repository(1)
	head["clusters/copy/"+SpecFile] = &fstest.MapFile{Data: []byte(clusterYAML("c000", "cassandra:4.1.5"))}
	doc, err := Compare(context.Background(), Tree{FS: base}, Tree{FS: head}, Options{Root: "."})
	require.NoError(t, err)
	require.Equal(t, Invalid, doc.Outcome, doc.Summary)
	require.Len(t, doc.Clusters, 2)
	for _, cl := range doc.Clusters {
		other := map[string]string{"clusters/c000": "clusters/copy/" + SpecFile, "clusters/copy": "clusters/c000/" + SpecFile}[cl.Dir]
		require.Len(t, cl.Refused, 1, "%s: %v", cl.Dir, cl.Refused)
		assert.Contains(t, cl.Refused[0].String(), "metadata.name: cluster c000 in namespace cassandra is also declared by "+other)
		assert.Empty(t, cl.Operations)
	}
}
