package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/review"
	"github.com/ringops/ringops/test/gitserver"
)

// gitRepo is test/gitserver's Repo whose working clone (dir) holds the
// example cluster at clusters/orders, committed once.
type gitRepo struct {
	*gitserver.Repo
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	g := &gitRepo{Repo: r, t: t, dir: r.Work}
	require.NoError(t, os.CopyFS(filepath.Join(g.dir, "clusters", "orders"), os.DirFS(example)))
	g.commit("add the orders cluster")
	return g
}

// edit replaces old by new in a file of the repository (not committed).
func (g *gitRepo) edit(file, old, new string) {
	g.t.Helper()
	p := filepath.Join(g.dir, file)
	data, err := os.ReadFile(p)
	require.NoError(g.t, err)
	require.Contains(g.t, string(data), old)
	require.NoError(g.t, os.WriteFile(p, []byte(strings.Replace(string(data), old, new, 1)), 0o644))
}

// commit commits every change of the working clone.
func (g *gitRepo) commit(msg string) {
	g.t.Helper()
	g.Commit(msg)
}

const spec = "clusters/orders/cluster.yaml"

// TestPlanMarkdownOfTwoCommits is the pull-request review path: two
// commits, the plan of the second as a PR comment, exit 1.
func TestPlanMarkdownOfTwoCommits(t *testing.T) {
	g := newGitRepo(t)
	g.edit(spec, "image: cassandra:5.0.9", "image: cassandra:5.0.10")
	g.commit("bump cassandra")

	code, out, errs := ringops(t, "plan", "--base", "HEAD~1", "--format", "markdown", g.dir)
	require.Equal(t, ExitChanges, code, errs)
	assert.True(t, strings.HasPrefix(out, "### ringops plan: orders: 7 restarts\n"), out[:min(len(out), 200)])
	assert.Contains(t, out, "Base `HEAD~1` (`")
	assert.Contains(t, out, "- image cassandra:5.0.9 → cassandra:5.0.10: rolling restart of 7 nodes in 7 racks, one node at a time: eu-west dc1 r1, r2, r3, then us-east dc2 r1, r2, then ap-south dc3 r1, r2\n")
	for _, region := range []string{"eu-west: 3 objects changed", "us-east: 2 objects changed", "ap-south: 2 objects changed"} {
		assert.Contains(t, out, "<details><summary>"+region+"</summary>\n\n```diff\n")
	}
	assert.Contains(t, out, "-        image: cassandra:5.0.9\n+        image: cassandra:5.0.10\n")
	assert.Less(t, strings.Index(out, "eu-west: 3 objects"), strings.Index(out, "us-east: 2 objects"), "seed region first")
}

func TestPlanExitCodes(t *testing.T) {
	g := newGitRepo(t)
	g.edit(spec, "size: 10Gi", "size: 5Gi")
	g.commit("shrink the volumes")

	code, out, _ := ringops(t, "plan", "--base", "HEAD~1", g.dir)
	assert.Equal(t, ExitInvalid, code, "a refused change exits 2:\n%s", out)
	assert.Contains(t, out, "refused: clusters/orders/cluster.yaml:")
	assert.Contains(t, out, "spec.storage.size: shrinks from 10Gi to 5Gi")

	code, out, _ = ringops(t, "plan", "--base", "HEAD", g.dir)
	assert.Equal(t, ExitOK, code, out)
	assert.Contains(t, out, "no change (1 cluster unchanged)")

	code, _, errs := ringops(t, "plan", "--base", "no-such-branch", g.dir)
	assert.Equal(t, ExitError, code)
	assert.Contains(t, errs, `revision "no-such-branch"`)

	code, _, errs = ringops(t, "plan", g.dir)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, "--base is required")
}

// TestPlanReadsCommitsOnly: an edit that is not committed is not planned.
func TestPlanReadsCommitsOnly(t *testing.T) {
	g := newGitRepo(t)
	// dc1's racks only: dc2 and dc3 have two racks, where Cassandra's token
	// allocator takes one node a rack.
	g.edit(spec, "      context: eu-west\n", "      context: eu-west\n      nodesPerRack: 2\n")
	code, out, _ := ringops(t, "plan", "--base", "HEAD", g.dir)
	assert.Equal(t, ExitOK, code, out)

	g.commit("grow every rack of dc1")
	code, out, _ = ringops(t, "plan", "--base", "HEAD~1", "--head", "HEAD", filepath.Join(g.dir, "clusters"))
	assert.Equal(t, ExitChanges, code, out)
	assert.Contains(t, out, "orders: dc1 (eu-west): +3 nodes in racks r1, r2 and r3: 3 bootstraps, one at a time: orders-dc1-r1-1, orders-dc1-r2-1, orders-dc1-r3-1\n")
}

func TestPlanJSONDocument(t *testing.T) {
	g := newGitRepo(t)
	g.edit(spec, "      context: eu-west\n", "      context: eu-west\n      nodesPerRack: 2\n")
	g.commit("grow every rack of dc1")
	code, out, errs := ringops(t, "plan", "--base", "HEAD~1", "-o", "json", g.dir)
	require.Equal(t, ExitChanges, code, errs)
	var doc review.Document
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, review.APIVersion, doc.APIVersion)
	assert.Equal(t, review.Changes, doc.Outcome)
	require.Len(t, doc.Clusters, 1)
	assert.Equal(t, "clusters/orders", doc.Clusters[0].Dir)
	var boots int
	for _, op := range doc.Clusters[0].Operations {
		if op.Kind == review.Bootstrap {
			boots += op.Nodes
		}
	}
	assert.Equal(t, 3, boots, "every rack of dc1 grows by one")
	assert.Equal(t, g.Head(), doc.Head.Commit)

	code, _, errs = ringops(t, "plan", "--base", "HEAD~1", "--output", "yaml", g.dir)
	assert.Equal(t, ExitUsage, code)
	assert.Contains(t, errs, "must be text, markdown or json")
}
