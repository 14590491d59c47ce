package pullrequests_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/review/pullrequests"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/sources/forge"
)

// childEnv makes this test binary the child of pullrequests.Isolated
// (what `ringops check-pull-request` is to the daemon).
const childEnv = "RINGOPS_TEST_CHECK_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := pullrequests.ServeChild(context.Background(), os.Stdin, os.Stdout); err != nil {
			os.Exit(3)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// countingPlanner counts the plans (child processes) it runs.
type countingPlanner struct {
	p    pullrequests.Planner
	runs atomic.Int32
}

func (c *countingPlanner) Plan(ctx context.Context, req pullrequests.PlanRequest) (pullrequests.PlanResult, error) {
	c.runs.Add(1)
	return c.p.Plan(ctx, req)
}

func isolated(t *testing.T, memory int64) *countingPlanner {
	t.Helper()
	t.Setenv(childEnv, "1")
	exe, err := os.Executable()
	require.NoError(t, err)
	return &countingPlanner{p: pullrequests.Isolated{Command: []string{exe}, MemoryLimit: memory, Timeout: 2 * time.Minute}}
}

// Latest makes the recorder a StatusReader: what the forge shows.
func (r *recorder) Latest(_ context.Context, revision string) ([]forge.Remote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []forge.Remote
	for _, s := range r.statuses {
		if s.Revision == revision {
			out = append(out, forge.Remote{Context: s.Context, State: s.State.String(), Description: s.Description})
		}
	}
	return out, nil
}

// issueSpec is issue 21's pull request: a few bytes changed in a valid
// spec that made the plan run out of memory inside the daemon (3.1 GB in
// 20 s through render's seed loop), crashing it at every restart.
func issueSpec(t *testing.T, files map[string]string) map[string]string {
	spec := edit(t, files, "nodesPerRack: 1\n", "nodesPerRack: 1000000000\n")[clusterFile]
	spec = strings.Replace(spec, "seedsPerDatacenter: 2\n", "seedsPerDatacenter: 1000000000\n", 1)
	return map[string]string{clusterFile: spec}
}

// TestIsolatedCheckSurvivesHostileHeads: the daemon's checker plans each
// head in a child process with a memory limit. Issue 21's head is
// refused (the spec's bounds); a head whose plan needs more memory than
// the child may use kills the child, not the checker: it is refused for
// good, with a status that a restarted checker reads, and is not planned
// again; the other heads are planned as before.
func TestIsolatedCheckSurvivesHostileHeads(t *testing.T) {
	w := newWorld(t)
	w.push(21, w.repo.commit(w.main, issueSpec(t, w.files), "issue 21: a billion nodes per rack"))
	rec := &recorder{}
	planner := isolated(t, 512<<20)
	src := newFakeSource(w.repo)
	c := newChecker(t, src, rec, func(o *pullrequests.Options) { o.Planner, o.Statuses = planner, rec })
	res, err := c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	got := map[string]forge.Status{}
	for _, v := range res.Checked {
		got[v.Head.Ref] = v.Status
	}
	require.Contains(t, got, headRef(21))
	assert.Equal(t, forge.StateFailure, got[headRef(21)].State)
	assert.Contains(t, got[headRef(21)].Description, "spec.nodesPerRack: 1000000000 is too large: at most 1000 nodes per rack")
	assert.Equal(t, forge.StateSuccess, got[headRef(1)].State, "%v", got[headRef(1)])
	assert.Contains(t, got[headRef(2)].Description, renamed)

	// A head within every bound whose plan needs more memory than the
	// child may use: a cluster at the spec's bounds in one context, with
	// a Component at its YAML budget.
	w.push(22, w.repo.commit(w.main, heavyCluster(), "a heavy head"))
	small := isolated(t, childLimit)
	c = newChecker(t, src, rec, func(o *pullrequests.Options) { o.Planner, o.Statuses = small, rec })
	res, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	var heavy forge.Status
	for _, v := range res.Checked {
		if v.Head.Ref == headRef(22) {
			heavy = v.Status
		}
	}
	assert.Equal(t, forge.StateFailure, heavy.State, "%v", heavy)
	assert.True(t, strings.HasPrefix(heavy.Description, pullrequests.RefusedPrefix), "%q", heavy.Description)
	assert.Contains(t, heavy.Description, "over the limits of a pull-request check")

	// A restarted checker reads the refusal from the forge: the heavy
	// head is not planned again.
	runs := small.runs.Load()
	c = newChecker(t, src, rec, func(o *pullrequests.Options) { o.Planner, o.Statuses = small, rec })
	res, err = c.Check(t.Context(), w.repo.base())
	require.NoError(t, err)
	assert.GreaterOrEqual(t, res.Refused, 1)
	for _, v := range res.Checked {
		assert.NotEqual(t, headRef(22), v.Head.Ref, "the refused head was planned again")
	}
	assert.Equal(t, int(runs)+len(res.Checked), int(small.runs.Load()))
}

// childLimit lets the child plan the example's heads, not the heavy one.
const childLimit = 160 << 20

// heavyCluster is a second cluster at the spec's bounds, every
// datacenter in eu-west (256 StatefulSets in one render), whose eu-west
// Component holds 24 ConfigMaps of render.MaxMappingKeys keys.
func heavyCluster() map[string]string {
	var b strings.Builder
	b.WriteString("apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: heavy, namespace: cassandra}\nspec:\n")
	fmt.Fprintf(&b, "  image: cassandra:5.0.4\n  seedsPerDatacenter: %d\n  storage: {size: 100Gi}\n  datacenters:\n", schemas.MaxSeedsPerDatacenter)
	racks, nodes := 0, 0
	for i := range schemas.MaxDatacenters {
		fmt.Fprintf(&b, "    - name: datacenter-%02d\n      context: eu-west\n      racks:\n", i)
		for j := range schemas.MaxRacks / schemas.MaxDatacenters {
			per := (schemas.MaxClusterNodes - nodes) / (schemas.MaxRacks - racks)
			fmt.Fprintf(&b, "        - {name: rack-%02d, nodes: %d}\n", j, per)
			racks, nodes = racks+1, nodes+per
		}
	}
	files := map[string]string{"clusters/heavy/cluster.yaml": b.String(),
		"clusters/heavy/regions/eu-west/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [big1.yaml, big2.yaml]\n"}
	for f := range 2 {
		var cm strings.Builder
		for m := range 12 {
			fmt.Fprintf(&cm, "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: big-%d-%02d, namespace: cassandra}\ndata:\n", f, m)
			for i := range render.MaxMappingKeys {
				fmt.Fprintf(&cm, "  k%06d: v\n", i)
			}
		}
		files[fmt.Sprintf("clusters/heavy/regions/eu-west/big%d.yaml", f+1)] = cm.String()
	}
	return files
}
