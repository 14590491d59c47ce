package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh/knownhosts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/gitserver"
)

// TestDaemonHTTP follows the example cluster (renamed shop) in a Git
// repository served by git http-backend behind a token, through its
// life: the bootstrap, no-op polls, a push, a force-push back, the branch
// deleted, the server down, a wrong token. After each, what a user sees:
// the daemon's API and metrics, the server's counters, the clusters.
func TestDaemonHTTP(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "shop")
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	r.CopyDir(copyExample(t, "shop").Dir, "clusters/shop")
	first := r.Commit("shop: the example cluster")
	r.Push()
	token, tokenFile := secretFile(t, "git-token-")
	srv := gitserver.NewHTTP(t, r, gitserver.HTTPOptions{Token: token, Username: "ringops"})
	d := startDaemon(t, w, daemonConfig{name: "http", repo: srv.URL(),
		env: []string{"RINGOPS_GIT_TOKEN_FILE=" + tokenFile, "RINGOPS_GIT_USERNAME=ringops"}})
	s := &httpScenario{w: w, m: m, r: r, srv: srv, d: d, first: first, tokenFile: tokenFile}
	steps := []struct {
		name string
		f    func(t *testing.T, s *httpScenario)
	}{
		{"bootstrap, seed datacenter first", daemonBootstrap},
		{"a no-op poll fetches nothing", noOpPolls},
		{"a push is applied", pushApplied},
		{"a force-push to the older revision scales back down", forcePushBack},
		{"a deleted branch keeps the clusters as they are", branchDeleted},
		{"the server down, then back", serverDown},
		{"a wrong token says so, never the token", wrongToken},
	}
	for _, st := range steps {
		if !t.Run(st.name, func(t *testing.T) { st.f(t, s) }) {
			t.FailNow()
		}
	}
	assert.NotContains(t, d.Output(), token, "the Git token was printed")
}

// httpScenario is what the steps of TestDaemonHTTP share.
type httpScenario struct {
	w         *env.World
	m         *monitor
	r         *gitserver.Repo
	srv       *gitserver.HTTPServer
	d         *daemonProc
	first     string
	tokenFile string
}

func daemonBootstrap(t *testing.T, s *httpScenario) {
	waitConverged(t, s.w, s.d, "shop", s.first, 7, limit)
	want := []string{"shop-dc1-r1 0 -> 1", "shop-dc1-r2 0 -> 1", "shop-dc1-r3 0 -> 1",
		"shop-dc2-r1 0 -> 1", "shop-dc2-r2 0 -> 1", "shop-dc3-r1 0 -> 1", "shop-dc3-r2 0 -> 1"}
	assert.Equal(t, want, scales(s.d.StepsSince(0)), "the seed datacenter first, its racks' first nodes in turn, then each datacenter in order")
	assert.Equal(t, []string{"shop-dc1-r1-0", "shop-dc1-r2-0", "shop-dc1-r3-0", "shop-dc2-r1-0", "shop-dc2-r2-0",
		"shop-dc3-r1-0", "shop-dc3-r2-0"}, s.m.Joined(), "the order in which the nodes joined the ring")
	c, err := s.d.Cluster("shop")
	require.NoError(t, err)
	assert.Equal(t, "clusters/shop", c.Dir)
	require.Len(t, c.Regions, 3, "%s", c)
	for _, rg := range c.Regions {
		assert.Equal(t, "success", rg.State, "region %s: %s", rg.Context, rg.Description)
	}
	assert.Len(t, c.Nodes, 7, "%s", c)
	assertCalm(t, s.m)
}

func noOpPolls(t *testing.T, s *httpScenario) {
	before, polls := s.srv.Counts(), s.d.Metric(t, "ringops_git_polls_total", `outcome="unchanged"`)
	renders := s.d.Metric(t, "ringops_render_duration_seconds_count")
	live := liveVersions(t, s.w, "shop")
	// Four polls counted for three advertisements seen: a poll may have
	// asked for the refs before the first count and be counted after it.
	harness.WaitFor(t, time.Minute, "four unchanged polls", func() error {
		if n := s.d.Metric(t, "ringops_git_polls_total", `outcome="unchanged"`); n < polls+4 {
			return fmt.Errorf("%v unchanged polls", n-polls)
		}
		return nil
	})
	got := s.srv.Counts().Sub(before)
	assert.GreaterOrEqual(t, got.RefAdvertisements, int64(3), "one ref advertisement per poll: %+v", got)
	assert.Zero(t, got.Fetches, "a poll that finds the same head fetches nothing: %+v", got)
	assert.Equal(t, renders, s.d.Metric(t, "ringops_render_duration_seconds_count"), "nor renders")
	assert.Equal(t, live, liveVersions(t, s.w, "shop"), "nor writes")
}

func pushApplied(t *testing.T, s *httpScenario) {
	mark, before := s.d.Mark(), s.srv.Counts()
	editRepoFile(t, s.r, "clusters/shop/cluster.yaml", "settle: 10s", "settle: 1s", "          # nodes: 2", "          nodes: 2")
	second := s.r.Commit("shop: a second node in eu-west's rack r3")
	s.r.Push()
	waitConverged(t, s.w, s.d, "shop", second, 8, limit)
	assert.Equal(t, []string{"shop-dc1-r3 1 -> 2"}, scales(s.d.StepsSince(mark)))
	assert.Equal(t, int64(1), s.srv.Counts().Sub(before).Fetches, "a new revision is fetched once")
	assert.Equal(t, "main@sha1:"+second, s.d.MustClusters(t).Source.Revision)
	assertCalm(t, s.m)
}

func forcePushBack(t *testing.T, s *httpScenario) {
	mark := s.d.Mark()
	s.r.ResetTo(s.first)
	waitConverged(t, s.w, s.d, "shop", s.first, 7, limit)
	assert.Len(t, s.d.StepsDone(mark, "Decommission shop-dc1-r3 node shop-dc1-r3-1"), 1, "%s", s.d.StepsSince(mark))
	assert.Equal(t, []string{"shop-dc1-r3 2 -> 1"}, scales(s.d.StepsSince(mark)), "the replica goes after the decommission")
	pvc, err := s.w.Region("eu-west").Client.CoreV1().PersistentVolumeClaims("cassandra").Get(t.Context(), "data-shop-dc1-r3-1", metav1.GetOptions{})
	require.NoError(t, err)
	assert.NotEmpty(t, pvc.Annotations["ringops.dev/decommissioned"], "the PVC of the decommissioned node is marked")
	assertCalm(t, s.m)
}

func branchDeleted(t *testing.T, s *httpScenario) {
	s.r.DeleteBranch()
	sourceFails(t, s, "ref not found")
	s.r.ForcePush()
	sourceRecovers(t, s)
}

func serverDown(t *testing.T, s *httpScenario) {
	s.srv.Stop()
	sourceFails(t, s, "server unreachable")
	s.srv.Start()
	sourceRecovers(t, s)
}

func wrongToken(t *testing.T, s *httpScenario) {
	wrong, _ := secretFile(t, "wrong-token-")
	right, err := os.ReadFile(s.tokenFile)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(s.tokenFile, []byte(wrong+"\n"), 0o600))
	before := s.srv.Counts()
	e := sourceFails(t, s, "authentication failed")
	assert.Contains(t, e, "token-file="+s.tokenFile, "the error names where the credentials come from")
	assert.Positive(t, s.srv.Counts().Sub(before).Unauthorized, "the server answered 401")
	require.NoError(t, os.WriteFile(s.tokenFile, right, 0o600))
	sourceRecovers(t, s)
	api, err := s.d.get("/api/v1/clusters")
	require.NoError(t, err)
	metrics, err := s.d.get("/metrics")
	require.NoError(t, err)
	for _, secret := range []string{wrong, strings.TrimSpace(string(right))} {
		assert.NotContains(t, s.d.Output(), secret, "a token in the daemon's log")
		assert.NotContains(t, string(api)+string(metrics), secret, "a token in the daemon's API")
	}
}

// sourceFails waits until two polls failed with an error holding want,
// checks that the cluster stayed as it was, and returns the error.
func sourceFails(t *testing.T, s *httpScenario, want string) string {
	t.Helper()
	failed := s.d.Metric(t, "ringops_git_polls_total", `outcome="failed"`)
	live := liveVersions(t, s.w, "shop")
	var e string
	harness.WaitFor(t, time.Minute, "the source's error "+want, func() error {
		v, err := s.d.Clusters()
		if err != nil {
			return err
		}
		e = v.Source.Error
		if n := s.d.Metric(t, "ringops_git_polls_total", `outcome="failed"`); n < failed+2 || !strings.Contains(e, want) {
			return fmt.Errorf("%v failed polls, source error %q", n-failed, e)
		}
		return nil
	})
	t.Logf("source error: %s", e)
	assert.True(t, s.d.Logged("git poll failed; the clusters stay at the revision they have"))
	c, err := s.d.Cluster("shop")
	require.NoError(t, err)
	assert.Equal(t, s.first, c.Revision, "%s", c)
	assert.Equal(t, "success", c.State, "%s", c)
	assert.Equal(t, live, liveVersions(t, s.w, "shop"), "nothing written while the source fails")
	return e
}

// sourceRecovers waits until a poll succeeds again and finds the same
// revision.
func sourceRecovers(t *testing.T, s *httpScenario) {
	t.Helper()
	unchanged := s.d.Metric(t, "ringops_git_polls_total", `outcome="unchanged"`)
	harness.WaitFor(t, 2*time.Minute, "the source back", func() error {
		v, err := s.d.Clusters()
		if err != nil {
			return err
		}
		if n := s.d.Metric(t, "ringops_git_polls_total", `outcome="unchanged"`); v.Source.Error != "" || n == unchanged {
			return fmt.Errorf("source error %q, %v unchanged polls since", v.Source.Error, n-unchanged)
		}
		return nil
	})
	c, err := s.d.Cluster("shop")
	require.NoError(t, err)
	assert.True(t, c.Revision == s.first && c.State == "success", "%s", c)
}

// TestDaemonSSH follows a repository over SSH (sshd on loopback, a key
// and known_hosts from RINGOPS_GIT_*): the bootstrap and a push are
// rolled out; daemons with a known_hosts that is missing or holds another
// key for the server are refused, with the reason, and act on nothing.
func TestDaemonSSH(t *testing.T) {
	w := sharedWorld(t)
	gitserver.RequireSSHD(t)
	m := watchCluster(t, w, "stock")
	spec := newDaemonSpec("stock", 1, 1)
	r, first := newClusterRepo(t, spec)
	sshd := gitserver.NewSSH(t, gitserver.DefaultSSHOptions())
	url := sshd.URL(r.Bare)
	key := "RINGOPS_GIT_SSH_KEY_FILE=" + sshd.KeyFile()

	t.Run("known_hosts unset: refused at start", func(t *testing.T) {
		res := daemonExit(t, w, daemonConfig{name: "no-known-hosts", repo: url, env: []string{key}}, time.Minute)
		assert.NotEqual(t, 0, res.Code, "%s", res)
		assert.Contains(t, res.Stderr, "known_hosts file (it is mandatory)", "%s", res)
	})
	other, _ := gitserver.NewSSHKey(t, "")
	wrongHosts := filepath.Join(t.TempDir(), "known_hosts")
	require.NoError(t, os.WriteFile(wrongHosts, []byte(knownhosts.Line([]string{sshd.Addr()}, other)+"\n"), 0o600))
	missing := filepath.Join(t.TempDir(), "nonexistent")
	refused := []struct {
		d    *daemonProc
		want []string // in the source's error
	}{
		{startDaemon(t, w, daemonConfig{name: "wrong-known-hosts", repo: url, env: []string{key, "RINGOPS_GIT_KNOWN_HOSTS_FILE=" + wrongHosts}}),
			[]string{"server not trusted", "does not match known_hosts " + wrongHosts}},
		{startDaemon(t, w, daemonConfig{name: "missing-known-hosts", repo: url, env: []string{key, "RINGOPS_GIT_KNOWN_HOSTS_FILE=" + missing}}),
			[]string{"server not trusted", "known_hosts", missing, "no such file or directory"}},
	}
	d := startDaemon(t, w, daemonConfig{name: "ssh", repo: url,
		env: []string{key, "RINGOPS_GIT_KNOWN_HOSTS_FILE=" + sshd.KnownHostsFile()}})

	t.Run("a known_hosts missing or with another key: refused", func(t *testing.T) {
		for _, bad := range refused {
			harness.WaitFor(t, time.Minute, "daemon "+bad.d.name+" refusing the server", func() error {
				v, err := bad.d.Clusters()
				if err != nil {
					return err
				}
				if len(harness.Lines(v.Source.Error, bad.want...)) == 0 {
					return fmt.Errorf("source error %q", v.Source.Error)
				}
				return nil
			})
			v := bad.d.MustClusters(t)
			t.Logf("daemon %s: %s", bad.d.name, v.Source.Error)
			assert.Empty(t, v.Clusters, "daemon %s manages nothing", bad.d.name)
			assert.Positive(t, bad.d.Metric(t, "ringops_git_polls_total", `outcome="failed"`))
			assert.Zero(t, bad.d.Metric(t, "ringops_steps_total"), "daemon %s took a step", bad.d.name)
		}
	})
	t.Run("bootstrap and a push over SSH", func(t *testing.T) {
		waitConverged(t, w, d, "stock", first, 2, daemonLimit)
		logins := sshd.Logins()
		spec.racks[1][0] = 2
		mark := d.Mark()
		second := pushSpec(t, r, spec, "stock: a second node in us-east")
		waitConverged(t, w, d, "stock", second, 3, daemonLimit)
		assert.Equal(t, []string{"stock-dc2-r1 1 -> 2"}, scales(d.StepsSince(mark)))
		assert.Greater(t, sshd.Logins(), logins, "the daemon went through sshd")
		assertCalm(t, m)
	})
	for _, bad := range refused {
		assert.Empty(t, bad.d.MustClusters(t).Clusters, "daemon %s still manages nothing", bad.d.name)
	}
}

// TestDaemonRestart stops the daemon in the middle of rollouts, SIGKILL
// during a scale-up of several nodes and SIGTERM during a decommission,
// and starts another: it picks up where the other stopped, no step
// repeated and none half done.
func TestDaemonRestart(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "basket")
	spec := newDaemonSpec("basket", 1, 1)
	r, first := newClusterRepo(t, spec)
	srv := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
	const grace = 40 * time.Second
	cfg := daemonConfig{repo: srv.URL(), args: []string{"--shutdown-grace", grace.String()}}
	top := t // the daemons outlive the subtests that start them
	cfg.name = "first"
	d := startDaemon(top, w, cfg)
	waitConverged(t, w, d, "basket", first, 2, daemonLimit)

	t.Run("SIGKILL during a scale-up", func(t *testing.T) {
		spec.racks = [2][]int{{3}, {2}}
		second := pushSpec(t, r, spec, "basket: 3 nodes in eu-west, 2 in us-east")
		waitReplicas(t, w, "eu-west", "basket-dc1-r1", 2, nil)
		d.Signal(t, syscall.SIGKILL)
		d.Wait(t, 30*time.Second)
		killed := d.StepsSince(0)

		cfg.name = "second"
		d = startDaemon(top, w, cfg)
		waitConverged(t, w, d, "basket", second, 5, daemonLimit)
		assert.Equal(t, []string{"basket-dc1-r1 2 -> 3", "basket-dc2-r1 1 -> 2"}, scales(d.StepsSince(0)),
			"the second daemon goes on from the replica the first one set")
		assertOnce(t, []string{killed, d.StepsSince(0)}, scales)
		for pod, n := range m.Creations() {
			assert.Equal(t, 1, n, "pod %s created more than once", pod)
		}
		assertCalm(t, m)
	})
	t.Run("SIGTERM during a decommission", func(t *testing.T) {
		// A slow Jolokia agent on the leaving node makes the step (from the
		// decommission marker on the StatefulSet until the node is seen
		// leaving NORMAL) last: 0.5 s for each answer (the readiness probe
		// still passes), then 3 s once the step has started.
		const leaving = "basket-dc1-r1-2"
		w.Sim.SetPodFaults("cassandra", leaving, cassandra.Faults{JolokiaDelay: 500 * time.Millisecond})
		defer w.Sim.SetPodFaults("cassandra", leaving, cassandra.Faults{})
		spec.racks = [2][]int{{2}, {2}}
		third := pushSpec(t, r, spec, "basket: back to 2 nodes in eu-west")
		waitReplicas(t, w, "eu-west", "basket-dc1-r1", 3, map[string]string{"ringops.dev/decommission": leaving})
		w.Sim.SetPodFaults("cassandra", leaving, cassandra.Faults{JolokiaDelay: 3 * time.Second})
		d.Signal(t, syscall.SIGTERM)
		// The grace bounds the step; the rest of the exit is quick.
		assert.Equal(t, 0, d.Wait(t, grace+20*time.Second), "exit status after SIGTERM")
		require.Len(t, d.StepsDone(0, "Decommission basket-dc1-r1 node "+leaving), 1, "the step in flight was finished")
		signal, step, exit := d.Index("stopping: finishing the step in flight"), d.Index("Decommission basket-dc1-r1 node "+leaving), d.Index("stopped")
		assert.True(t, signal >= 0 && signal < step && step < exit,
			"SIGTERM came during the step, which finished before the exit: log lines %d, %d, %d", signal, step, exit)
		ring := w.Sim.Ring("basket")
		assert.False(t, slices.ContainsFunc(ring, func(n cassandra.NodeStatus) bool {
			return n.Pod == leaving && n.Mode == "NORMAL"
		}), "the decommission started went on (the node is leaving or gone): %+v", ring)
		terminated := d.StepsSince(0)

		w.Sim.SetPodFaults("cassandra", leaving, cassandra.Faults{})
		cfg.name = "third"
		d = startDaemon(top, w, cfg)
		waitConverged(t, w, d, "basket", third, 4, daemonLimit)
		assert.Empty(t, harness.Lines(d.StepsSince(0), "Decommission"), "the decommission is not started again")
		assert.Equal(t, []string{"basket-dc1-r1 3 -> 2"}, scales(d.StepsSince(0)), "the replica goes once the node left")
		assertOnce(t, []string{terminated, d.StepsSince(0)}, scales)
		pvc, err := w.Region("eu-west").Client.CoreV1().PersistentVolumeClaims("cassandra").Get(t.Context(), "data-"+leaving, metav1.GetOptions{})
		require.NoError(t, err)
		assert.NotEmpty(t, pvc.Annotations["ringops.dev/decommissioned"])
		assertCalm(t, m)
	})
}

// waitReplicas waits until the StatefulSet has at least n replicas and
// the annotations (polled every 20 ms: the caller acts right after).
func waitReplicas(t *testing.T, w *env.World, region, sts string, n int32, annotations map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), daemonLimit)
	defer cancel()
	for {
		got, ann := replicas(ctx, w, region, sts)
		ok := got >= n
		for k, v := range annotations {
			ok = ok && ann[k] == v
		}
		if ok {
			t.Logf("%s/%s: %d replicas, annotations %v", region, sts, got, ann)
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s/%s: not %d replicas with %v: %d, %v", region, sts, n, annotations, got, ann)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestDaemonInvalidRevision pushes a broken spec: nothing is applied, the
// cluster says failure with the validation error; then a fixed push is
// rolled out.
func TestDaemonInvalidRevision(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "ledger")
	spec := newDaemonSpec("ledger", 1, 1)
	r, first := newClusterRepo(t, spec)
	srv := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
	d := startDaemon(t, w, daemonConfig{name: "invalid", repo: srv.URL()})
	waitConverged(t, w, d, "ledger", first, 2, daemonLimit)

	live := liveVersions(t, w, "ledger")
	mark := d.Mark()
	spec.racks[1][0] = 2
	broken := strings.Replace(spec.yaml(), "\n  nodesPerRack: 1\n", "\n  nodesPerRack: -1\n", 1)
	bad := r.CommitAndPush("ledger: broken", map[string]string{"clusters/ledger/cluster.yaml": broken})
	var c apiCluster
	harness.WaitFor(t, time.Minute, "the broken revision refused", func() error {
		var err error
		if c, err = d.Cluster("ledger"); err != nil {
			return err
		}
		if c.Revision != bad || c.State != "failure" {
			return fmt.Errorf("%s", c)
		}
		return nil
	})
	t.Logf("%s", c)
	require.NotEmpty(t, c.Invalid, "%s", c)
	assert.Contains(t, strings.Join(c.Invalid, "\n"), "nodesPerRack", "the error names the field")
	for _, rg := range c.Regions {
		assert.Equal(t, "failure", rg.State, "region %s", rg.Context)
		assert.Contains(t, rg.Description, "nodesPerRack", "region %s", rg.Context)
	}
	assert.Positive(t, d.Metric(t, "ringops_errors_total", `component="validation"`))
	polls := d.Metric(t, "ringops_git_polls_total", `outcome="unchanged"`)
	harness.WaitFor(t, time.Minute, "three more polls", func() error {
		if n := d.Metric(t, "ringops_git_polls_total", `outcome="unchanged"`); n < polls+3 {
			return fmt.Errorf("%v polls", n-polls)
		}
		return nil
	})
	assert.Empty(t, d.StepsSince(mark), "no step on an invalid revision")
	assert.Equal(t, live, liveVersions(t, w, "ledger"), "nothing written")
	n, _ := replicas(t.Context(), w, "us-east", "ledger-dc2-r1")
	assert.Equal(t, int32(1), n)

	fixed := pushSpec(t, r, spec, "ledger: fixed")
	waitConverged(t, w, d, "ledger", fixed, 3, daemonLimit)
	assert.Equal(t, []string{"ledger-dc2-r1 1 -> 2"}, scales(d.StepsSince(mark)))
	c, err := d.Cluster("ledger")
	require.NoError(t, err)
	assert.Empty(t, c.Invalid)
	assertCalm(t, m)
}

// haLease is the Lease of TestDaemonHA, in eu-west's namespace default.
const haLease = "ringops-e2e-wallet"

// TestDaemonHA runs two daemons on one Lease: only the leader acts; a
// webhook sent to the standby makes the leader poll; SIGTERM on the
// leader releases the Lease and the standby takes over and goes on.
func TestDaemonHA(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "wallet")
	spec := newDaemonSpec("wallet", 1, 1)
	r, first := newClusterRepo(t, spec)
	// One server per daemon, so that each one's Git requests are counted.
	srvA := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
	srvB := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
	secret, secretPath := secretFile(t, "hook-")
	ha := []string{"--leader-elect", "--leader-election-namespace", "default", "--leader-election-context", "eu-west",
		"--leader-election-id", haLease, "--leader-election-lease-duration", "60s", "--leader-election-retry-period", "1s",
		"--webhook-secret-file", secretPath}
	// An hour between polls: only the first poll and the webhooks count.
	a := startDaemon(t, w, daemonConfig{name: "a", repo: srvA.URL(), interval: time.Hour, env: []string{"POD_NAME=ringops-a"}, args: ha})
	harness.WaitFor(t, time.Minute, "daemon a leading", func() error {
		if v, err := a.Clusters(); err != nil || !v.Leader {
			return fmt.Errorf("leader=%v, %v", v.Leader, err)
		}
		return nil
	})
	b := startDaemon(t, w, daemonConfig{name: "b", repo: srvB.URL(), interval: time.Hour, env: []string{"POD_NAME=ringops-b"}, args: ha})
	harness.WaitFor(t, time.Minute, "daemon b standing by", func() error {
		if !b.Logged("standing by") {
			return fmt.Errorf("no 'standing by' line")
		}
		return nil
	})
	waitConverged(t, w, a, "wallet", first, 2, daemonLimit)
	assertStandby(t, w, b, srvB, "ringops-a")

	t.Run("a webhook to the standby makes the leader poll", func(t *testing.T) {
		polls := a.Metric(t, "ringops_git_polls_total")
		spec.racks[1][0] = 2
		mark := a.Mark()
		second := pushSpec(t, r, spec, "wallet: a second node in us-east")
		require.Equal(t, 202, sendWebhook(t, b, "gitea", secret, "refs/heads/main", second))
		waitConverged(t, w, a, "wallet", second, 3, daemonLimit)
		assert.True(t, a.Logged("webhook relayed by the standby: polling now"))
		assert.Equal(t, polls+1, a.Metric(t, "ringops_git_polls_total"), "the leader polled once more")
		assert.Equal(t, []string{"wallet-dc2-r1 1 -> 2"}, scales(a.StepsSince(mark)))
		assertStandby(t, w, b, srvB, "ringops-a")
	})
	t.Run("SIGTERM on the leader: the standby takes over", func(t *testing.T) {
		live := liveVersions(t, w, "wallet")
		second := a.MustClusters(t).Source.Commit
		a.Signal(t, syscall.SIGTERM)
		assert.Equal(t, 0, a.Wait(t, time.Minute), "exit status after SIGTERM")
		// The Lease lasts 60 s: a takeover sooner than that is the release.
		harness.WaitFor(t, 45*time.Second, "daemon b leading before the Lease would expire", func() error {
			if v, err := b.Clusters(); err != nil || !v.Leader {
				return fmt.Errorf("leader=%v, %v", v.Leader, err)
			}
			return nil
		})
		waitConverged(t, w, b, "wallet", second, 3, daemonLimit)
		assert.Equal(t, "ringops-b", leaseHolder(t, w), "the Lease's holder")
		assert.Positive(t, srvB.Counts().RefAdvertisements, "the new leader polls")
		assert.Empty(t, scales(b.StepsSince(0)), "a converged cluster: nothing to do")
		assert.Equal(t, live, liveVersions(t, w, "wallet"), "the takeover writes nothing")

		spec.racks[0][0] = 2
		mark := b.Mark()
		third := pushSpec(t, r, spec, "wallet: a second node in eu-west")
		require.Equal(t, 202, sendWebhook(t, b, "github", secret, "refs/heads/main", third))
		waitConverged(t, w, b, "wallet", third, 4, daemonLimit)
		assert.Equal(t, []string{"wallet-dc1-r1 1 -> 2"}, scales(b.StepsSince(mark)))
		assertCalm(t, m)
	})
	assert.NotContains(t, a.Output()+b.Output(), secret, "the webhook secret was printed")
}

// assertStandby: the standby says so, polls nothing and acts on nothing,
// the Lease is held by leader.
func assertStandby(t *testing.T, w *env.World, b *daemonProc, srv *gitserver.HTTPServer, leader string) {
	t.Helper()
	v := b.MustClusters(t)
	assert.False(t, v.Leader, "daemon b says it leads")
	assert.Empty(t, v.Clusters, "the standby shows no cluster: it manages none")
	assert.Zero(t, srv.Counts(), "the standby asked nothing of its Git server")
	assert.Zero(t, b.Metric(t, "ringops_steps_total"), "the standby took a step")
	assert.Zero(t, b.Metric(t, "ringops_leader"))
	assert.Empty(t, b.StepsSince(0))
	assert.Equal(t, leader, leaseHolder(t, w), "the Lease's holder")
}

// leaseHolder is the holder of TestDaemonHA's Lease.
func leaseHolder(t *testing.T, w *env.World) string {
	t.Helper()
	l, err := w.Region("eu-west").Client.CoordinationV1().Leases("default").Get(t.Context(), haLease, metav1.GetOptions{})
	require.NoError(t, err)
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// TestDaemonAPIServerOutage stops us-east's API server for a minute
// while a rollout there waits for a node to join (#18): the daemon, which
// observes from watch-fed caches, must not read its caches of that region
// meanwhile (the region cannot be read, the steps there wait), must
// resume once the server is back (its watches reconnect, the node joins),
// and must neither repeat nor skip a step.
func TestDaemonAPIServerOutage(t *testing.T) {
	w := sharedWorld(t)
	m := watchCluster(t, w, "larder")
	spec := newDaemonSpec("larder", 1, 1)
	r, first := newClusterRepo(t, spec)
	srv := gitserver.NewHTTP(t, r, gitserver.DefaultHTTPOptions())
	d := startDaemon(t, w, daemonConfig{repo: srv.URL(), name: "outage"})
	waitConverged(t, w, d, "larder", first, 2, daemonLimit)
	mark := d.Mark()

	spec.racks = [2][]int{{1}, {3}}
	second := pushSpec(t, r, spec, "larder: 3 nodes in us-east")
	waitReplicas(t, w, "us-east", "larder-dc2-r1", 2, nil)
	us := w.Region("us-east").ControlPlane
	require.NoError(t, us.StopAPIServer())
	stopped := time.Now()
	restarted := false
	defer func() {
		if !restarted { // the shared world's other tests need it
			_ = us.StartAPIServer(context.Background())
		}
	}()
	harness.WaitFor(t, 45*time.Second, "the daemon says us-east cannot be read", func() error {
		c, err := d.Cluster("larder")
		if err != nil {
			return err
		}
		if !strings.Contains(c.Plan, "us-east cannot be read") {
			return fmt.Errorf("%s", c)
		}
		return nil
	})
	time.Sleep(time.Until(stopped.Add(time.Minute)))
	during := d.StepsSince(mark)
	require.NoError(t, us.StartAPIServer(t.Context()))
	restarted = true
	t.Logf("us-east's API server back after %s", time.Since(stopped).Round(time.Second))

	waitConverged(t, w, d, "larder", second, 4, daemonLimit)
	assert.Equal(t, []string{"larder-dc2-r1 1 -> 2", "larder-dc2-r1 2 -> 3"}, scales(d.StepsSince(mark)),
		"one scale step before the outage, the next after it")
	assert.Equal(t, []string{"larder-dc2-r1 1 -> 2"}, scales(during), "no step in us-east while its API server was away")
	assertOnce(t, []string{d.StepsSince(0)}, scales)
	for pod, n := range m.Creations() {
		assert.Equal(t, 1, n, "pod %s created more than once", pod)
	}
	assertCalm(t, m)
}
