package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	giteaserver "github.com/ringops/ringops/test/gitea"
)

// tillsRegions are the regions of the example cluster (renamed tills),
// the seed region first, with their nodes after the bootstrap.
var tillsRegions = []struct {
	name  string
	nodes int
}{{"eu-west", 3}, {"us-east", 2}, {"ap-south", 2}}

// tillsSpec is the cluster's spec in the repository.
const tillsSpec = "clusters/tills/cluster.yaml"

// TestForgeGiteaStatuses follows the example cluster (renamed tills) in
// a repository of a real Gitea, polled over HTTP once an hour, with a
// Gitea push webhook to the daemon, and reads back from Gitea's API what
// a user sees on each commit: the bootstrap, pending then success in
// every region (the seed region done first) and in the summary; a push
// that grows a rack, picked up through the webhook, pending then
// success, the older commit left with nothing pending; a commit renaming
// a datacenter, failure everywhere with the reason, nothing applied.
func TestForgeGiteaStatuses(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "tills")
	g := giteaserver.Start(t)
	repo := g.CreateRepo(t, "clusters")
	first := g.Push(t, repo, treeFiles(t, copyExample(t, "tills").Dir, "clusters/tills"), "tills: the example cluster")
	// An hour between polls: only the first poll and the webhooks count.
	r := startGiteaDaemon(t, w, g, repo, "gitea", time.Hour)
	g.AddPushHook(t, repo, r.url+"/hooks/gitea", r.hookSecret)
	s := &giteaScenario{w: w, m: m, r: r, first: first}
	steps := []struct {
		name string
		f    func(t *testing.T, s *giteaScenario)
	}{
		{"bootstrap: pending then success per region, seed region first", giteaBootstrap},
		{"a push through the webhook: the new commit pending then success", giteaWebhookPush},
		{"a datacenter renamed: failure everywhere, nothing applied", giteaRefusedPush},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) { st.f(t, s) }) {
			t.FailNow()
		}
	}
}

// giteaScenario is what the steps of TestForgeGiteaStatuses share.
type giteaScenario struct {
	w      *env.World
	m      *monitor
	r      *giteaRun
	first  string
	second string
}

// tillsStates are the latest states expected on a commit of tills: state
// in the summary and in every region.
func tillsStates(state string) map[string]string {
	out := map[string]string{"ringops": state}
	for _, rg := range tillsRegions {
		out["ringops/tills/"+rg.name] = state
	}
	return out
}

func giteaBootstrap(t *testing.T, s *giteaScenario) {
	waitConverged(t, s.w, s.r.d, "tills", s.first, 7, limit)
	all := s.r.waitStatuses(t, s.first, tillsStates("success"))
	logStatuses(t, fmt.Sprintf("bootstrap of the example cluster (tills), commit %.7s", s.first), all)
	seqs := byContext(all)
	for c := range tillsStates("success") {
		assertPendingThen(t, c, seqs[c], "success")
	}
	for _, rg := range tillsRegions {
		seq := seqs["ringops/tills/"+rg.name]
		want := fmt.Sprintf("%s: %d nodes UN, ring healthy at %.7s", rg.name, rg.nodes, s.first)
		assert.Equal(t, want, seq[len(seq)-1].Description)
	}
	sum := seqs["ringops"]
	assert.Equal(t, "3/3 regions done", sum[len(sum)-1].Description)
	seed := firstID(seqs["ringops/tills/eu-west"], "success")
	for _, rg := range tillsRegions[1:] {
		assert.Less(t, seed, firstID(seqs["ringops/tills/"+rg.name], "success"),
			"the seed region (eu-west) is done before %s", rg.name)
	}
	assertLinks(t, s.r, all)
	assertCalm(t, s.m)
}

// assertLinks: every status links to the daemon's view of its cluster
// (--external-url), and the link answers with it.
func assertLinks(t *testing.T, r *giteaRun, all []giteaStatus) {
	t.Helper()
	for _, st := range all {
		want := r.url + "/api/v1/clusters/tills"
		if st.Context == "ringops" {
			want = r.url + "/api/v1/clusters"
		}
		assert.Equal(t, want, st.TargetURL, "the link of %s %s", st.Context, st.State)
	}
	resp, err := http.Get(r.url + "/api/v1/clusters/tills")
	require.NoError(t, err)
	defer resp.Body.Close()
	var c apiCluster
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&c))
	assert.Equal(t, "tills", c.Name, "the page a status links to")
}

func giteaWebhookPush(t *testing.T, s *giteaScenario) {
	d := s.r.d
	hooks, polls := d.Metric(t, "ringops_webhooks_total"), d.Metric(t, "ringops_git_polls_total")
	onFirst := len(s.r.statuses(t, s.first))
	mark := d.Mark()
	// Two nodes more in one rack: two bootstraps, the settle time (10s)
	// between them, so that the rollout lasts long enough to be seen.
	edit := specEdit(t, s.r.repo, tillsSpec, "          # nodes: 2", "          nodes: 3")
	s.second = s.r.g.Push(t, s.r.repo, edit, "tills: two more nodes in ap-south's rack r2")
	pushed := time.Now()
	harness.WaitFor(t, time.Minute, "the webhook's poll taking the commit (the next timed poll is an hour away)", func() error {
		if c := d.MustClusters(t).Source.Commit; c != s.second {
			return fmt.Errorf("the daemon is at %.7s", c)
		}
		return nil
	})
	t.Logf("daemon at %.7s %s after the push", s.second, time.Since(pushed).Round(100*time.Millisecond))
	assert.Equal(t, hooks+1, d.Metric(t, "ringops_webhooks_total"), "Gitea's push webhook, verified")
	assert.Equal(t, polls+1, d.Metric(t, "ringops_git_polls_total"), "one poll, the webhook's")
	waitConverged(t, s.w, d, "tills", s.second, 9, limit)
	assert.Equal(t, []string{"tills-dc3-r2 1 -> 2", "tills-dc3-r2 2 -> 3"}, scales(d.StepsSince(mark)))

	all := s.r.waitStatuses(t, s.second, tillsStates("success"))
	logStatuses(t, fmt.Sprintf("tills: two nodes added to ap-south's rack r2, commit %.7s", s.second), all)
	seqs := byContext(all)
	for c := range tillsStates("success") {
		assertEndsIn(t, c, seqs[c], "success")
	}
	for _, c := range []string{"ringops", "ringops/tills/ap-south"} {
		assertPendingThen(t, c, seqs[c], "success")
	}
	apSouth := seqs["ringops/tills/ap-south"]
	assert.Equal(t, fmt.Sprintf("ap-south: 4 nodes UN, ring healthy at %.7s", s.second), apSouth[len(apSouth)-1].Description)
	old := s.r.statuses(t, s.first)
	assert.Len(t, old, onFirst, "nothing more posted on the older commit")
	assert.Equal(t, tillsStates("success"), latest(old), "the older commit: nothing left pending")
	assertCalm(t, s.m)
}

func giteaRefusedPush(t *testing.T, s *giteaScenario) {
	d := s.r.d
	live := liveVersions(t, s.w, "tills")
	onSecond := len(s.r.statuses(t, s.second))
	mark := d.Mark()
	edit := specEdit(t, s.r.repo, tillsSpec, "    - name: dc3\n", "    - name: dc4\n")
	bad := s.r.g.Push(t, s.r.repo, edit, "tills: rename dc3 to dc4")
	all := s.r.waitStatuses(t, bad, tillsStates("failure"))
	logStatuses(t, fmt.Sprintf("tills: dc3 renamed dc4 (refused), commit %.7s", bad), all)
	const reason = "datacenter dc3 was renamed to dc4"
	seqs := byContext(all)
	for c := range tillsStates("failure") {
		assertFailed(t, c, seqs[c])
		assert.Contains(t, seqs[c][len(seqs[c])-1].Description, reason, "%s", c)
	}
	sum := seqs["ringops"]
	assert.NotContains(t, sum[len(sum)-1].Description, "picked up", "the summary's last word has every region's failure")
	c, err := d.Cluster("tills")
	require.NoError(t, err)
	assert.True(t, c.Revision == bad && c.State == "failure", "%s", c)
	assert.Contains(t, strings.Join(c.Invalid, "\n"), reason, "%s", c)

	assert.Empty(t, d.StepsSince(mark), "no step on a refused revision")
	assert.Equal(t, live, liveVersions(t, s.w, "tills"), "nothing written")
	n, _ := replicas(t.Context(), s.w, "ap-south", "tills-dc3-r2")
	assert.Equal(t, int32(3), n, "tills-dc3-r2 keeps its replicas")
	n, _ = replicas(t.Context(), s.w, "ap-south", "tills-dc4-r1")
	assert.Equal(t, int32(-1), n, "no StatefulSet for dc4")
	assert.Len(t, s.r.statuses(t, s.second), onSecond, "the commit before keeps its statuses")
	assertCalm(t, s.m)
}

// TestForgeGiteaPullRequestPlan runs the daemon with --pr-validation on
// a repository of a real Gitea whose main branch holds a small cluster,
// and opens two pull requests: one adding a node gets ringops/plan
// success with the plan's summary, one renaming a datacenter gets
// failure with the reason. Neither is applied: the cluster stays at
// main's revision, nothing is written to the world.
func TestForgeGiteaPullRequestPlan(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "coupons")
	spec := propSpec{name: "coupons", image: 5, settle: "1s", racks: [2][]int{{1}, {1}}}
	dir := propCluster(t, spec.name)
	dir.write(t, spec.yaml())
	g := giteaserver.Start(t)
	repo := g.CreateRepo(t, "clusters")
	main := g.Push(t, repo, treeFiles(t, dir.Dir, "clusters/coupons"), "coupons: one node per datacenter")
	// Pull-request heads are checked after each poll of main.
	r := startGiteaDaemon(t, w, g, repo, "gitea-pr", 2*time.Second, "--pr-validation")
	waitConverged(t, w, r.d, "coupons", main, 2, daemonLimit)
	done := map[string]string{"ringops": "success", "ringops/coupons/eu-west": "success", "ringops/coupons/us-east": "success"}
	r.waitStatuses(t, main, done)
	live, mark := liveVersions(t, w, "coupons"), r.d.Mark()

	grown := spec
	grown.racks = [2][]int{{1}, {2}}
	file := "clusters/coupons/cluster.yaml"
	growHead := g.PushBranch(t, repo, "grow-us-east", map[string]string{file: grown.yaml()}, "coupons: a second node in us-east")
	renamed := strings.Replace(spec.yaml(), "    - name: dc2\n", "    - name: dc5\n", 1)
	require.NotEqual(t, spec.yaml(), renamed)
	renameHead := g.PushBranch(t, repo, "rename-dc2", map[string]string{file: renamed}, "coupons: rename dc2 to dc5")
	growPR := g.OpenPull(t, repo, "grow-us-east", "main", "Grow us-east")
	renamePR := g.OpenPull(t, repo, "rename-dc2", "main", "Rename dc2")
	g.WaitPullHead(t, repo, growPR.Number, growHead)
	g.WaitPullHead(t, repo, renamePR.Number, renameHead)

	grow := r.waitStatuses(t, growHead, map[string]string{"ringops/plan": "success"})
	logStatuses(t, fmt.Sprintf("pull request #%d (a node added), head %.7s", growPR.Number, growHead), grow)
	// The new node is a seed of dc2, which costs no restart of its own.
	assert.Equal(t, "coupons: 1 bootstrap", grow[len(grow)-1].Description)
	rename := r.waitStatuses(t, renameHead, map[string]string{"ringops/plan": "failure"})
	logStatuses(t, fmt.Sprintf("pull request #%d (a datacenter renamed), head %.7s", renamePR.Number, renameHead), rename)
	assert.Contains(t, rename[len(rename)-1].Description, "datacenter dc2 was renamed to dc5")

	// Two more passes over the heads: still nothing applied, nothing more posted.
	checks := r.d.Metric(t, "ringops_pullrequest_checks_total")
	harness.WaitFor(t, time.Minute, "two more passes over the pull requests", func() error {
		if n := r.d.Metric(t, "ringops_pullrequest_checks_total"); n < checks+2 {
			return fmt.Errorf("%v passes", n-checks)
		}
		return nil
	})
	assert.Len(t, r.statuses(t, growHead), 1, "one verdict per head, no rollout status")
	assert.Len(t, r.statuses(t, renameHead), 1, "one verdict per head, no rollout status")
	assert.Equal(t, done, latest(r.statuses(t, main)), "no plan on main, nothing new on it")
	assert.Empty(t, r.d.StepsSince(mark), "no step")
	assert.Equal(t, live, liveVersions(t, w, "coupons"), "nothing written")
	n, _ := replicas(t.Context(), w, "us-east", "coupons-dc2-r1")
	assert.Equal(t, int32(1), n, "coupons-dc2-r1 keeps its replica")
	n, _ = replicas(t.Context(), w, "us-east", "coupons-dc5-r1")
	assert.Equal(t, int32(-1), n, "no StatefulSet for dc5")
	c, err := r.d.Cluster("coupons")
	require.NoError(t, err)
	assert.True(t, c.Revision == main && c.State == "success", "%s", c)
	assertCalm(t, m)
}
