package bench

import (
	"flag"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/test/gitserver"
)

var (
	replicasFlag = flag.Int("replicas", 3, "BenchmarkDaemonShards: daemons (ringops run --shards), named ringops-0..replicas-1 ($POD_NAME)")
	shardsFlag   = flag.Int("shards", 3, "BenchmarkDaemonShards: ringops run --shards")
	leaseFlag    = flag.Duration("lease-duration", 5*time.Second, "BenchmarkDaemonShards: --leader-election-lease-duration (renew deadline 3/5 of it, retry period 1/10)")
)

// The shard Leases: ringops-shard-<i> in the namespace default of eu-west.
const (
	leaseID        = "ringops"
	leaseNamespace = "default"
	leaseContext   = "eu-west"
)

// BenchmarkDaemonShards runs -replicas daemons with --shards over one
// repository of -clusters clusters: they converge, each on the clusters
// of its shards; a change is pushed to every cluster; one replica is
// SIGKILLed while the clusters roll it out; the others take its shards
// and every cluster converges on the change. It fails when a cluster was
// written by two replicas at once or in one term, or a step was taken
// twice or skipped (see the package documentation for the metrics). ns/op
// is the time from the daemons' start to every cluster converged.
//
//	go test ./test/bench -run '^$' -bench DaemonShards -benchtime 1x -timeout 60m -args -clusters 6
func BenchmarkDaemonShards(b *testing.B) {
	if testing.Short() {
		b.Skip("starts three control planes and three daemons; several minutes")
	}
	if *replicasFlag < 2 || *shardsFlag < 2 {
		b.Fatalf("-replicas %d -shards %d: a takeover needs two of each", *replicasFlag, *shardsFlag)
	}
	n := *clustersFlag
	for range b.N { // not b.Loop: the timer runs only from the daemons' start to convergence
		b.StopTimer()
		shardClusters(b, n)
	}
}

// shardClusters is one run: world, repository, replicas, convergence,
// change, kill, takeover, convergence, audit.
func shardClusters(b *testing.B, n int) {
	binary := *binaryFlag
	if binary == "" {
		binary = buildDaemon(b)
	}
	w := startWorld(b)
	repo, url := serveClustersRepo(b, n)
	first := repo.Head()
	leases := leaseReader{client: w.Region(leaseContext).Client, shards: *shardsFlag}
	b.Logf("world up, %d clusters served", n)

	b.StartTimer()
	start := time.Now()
	rs := startReplicas(b, binary, url, w.Kubeconfig)
	views := rs.awaitConverged(b, n, first, *convergeFlag)
	convergedIn := time.Since(start)
	b.StopTimer()
	owned := rs.report(b, views, "converged")
	for i, c := range owned {
		b.ReportMetric(float64(c), fmt.Sprintf("clusters-r%d", i))
	}
	b.ReportMetric(convergedIn.Seconds(), "converge-s")

	second := repo.CommitAndPush("every cluster: concurrent_compactors 4", configChange(n))
	pushed := time.Now()
	dead := busiest(owned)
	rs.awaitStep(b, dead, second, 2*time.Minute)
	held := leases.heldBy(b, rs.names[dead])
	killedAt := time.Now()
	rs.ds[dead].kill(b)
	takeover := leases.awaitTakenOver(b, held, rs.names[dead], 10**leaseFlag)
	b.Logf("%s (shards %v) SIGKILLed mid-rollout (after its first step of the change); its shards held by others %.1f s later",
		rs.names[dead], held, takeover.Sub(killedAt).Seconds())
	if took := takeover.Sub(killedAt); took > 2**leaseFlag {
		b.Errorf("takeover in %s: more than twice the lease duration %s", took.Round(100*time.Millisecond), *leaseFlag)
	}
	views = rs.awaitConverged(b, n, second, *convergeFlag)
	rolledIn := time.Since(pushed)
	rs.report(b, views, "converged after the kill")

	a := auditRun(b, w, rs, views, [2]string{first, second}, victim{name: rs.names[dead], shards: held})
	b.ReportMetric(takeover.Sub(killedAt).Seconds(), "takeover-s")
	b.ReportMetric(rolledIn.Seconds(), "rollout-s")
	b.ReportMetric(float64(a.steps), "steps")
	b.ReportMetric(float64(len(a.repeated)), "repeated")
	b.ReportMetric(float64(len(a.unlogged)), "unlogged")
	a.fail(b)
}

// serveClustersRepo is serveClusters that also returns the repository,
// for the pushes that follow.
func serveClustersRepo(b *testing.B, n int) (*gitserver.Repo, string) {
	b.Helper()
	repo := gitserver.NewRepo(b, gitserver.DefaultRepoOptions())
	repo.CommitAndPush(fmt.Sprintf("%d clusters x 3 regions", n), clusterFiles(b, n))
	return repo, gitserver.NewHTTP(b, repo, gitserver.DefaultHTTPOptions()).URL()
}

// configChange is a change of every cluster's cassandra.yaml: a roll of
// its three nodes, one region at a time.
func configChange(n int) map[string]string {
	files := map[string]string{}
	for i := range n {
		name := clusterName(i)
		files["clusters/"+name+"/cluster.yaml"] = fmt.Sprintf(clusterSpec, name) +
			"  config:\n    cassandra-yaml:\n      concurrent_compactors: 4\n"
	}
	return files
}

// replicas are the sharded daemons, ringops-0..N-1.
type replicas struct {
	ds    []*daemon
	names []string
}

// startReplicas runs -replicas daemons with --shards on the same
// repository, their Leases in eu-west's namespace default, each with
// POD_NAME=ringops-<i> (its home shard i), an HTTP port of its own and a
// log of JSON lines (the audit reads them).
func startReplicas(b *testing.B, binary, url string, kubeconfig string) *replicas {
	b.Helper()
	lease := *leaseFlag
	args := []string{"--log-format", "json", "--shards", fmt.Sprint(*shardsFlag),
		"--leader-election-namespace", leaseNamespace, "--leader-election-context", leaseContext, "--leader-election-id", leaseID,
		"--leader-election-lease-duration", lease.String(), "--leader-election-renew-deadline", (lease * 3 / 5).String(),
		"--leader-election-retry-period", (lease / 10).String()}
	rs := &replicas{}
	for i := range *replicasFlag {
		name := fmt.Sprintf("ringops-%d", i)
		log := ""
		if *logFlag != "" {
			log = fmt.Sprintf("%s.%d", *logFlag, i)
		}
		// Polls every 5 s: the replicas see the push without webhooks.
		o := daemonOptions{log: log, interval: 5 * time.Second, env: []string{"POD_NAME=" + name}, args: args}
		rs.ds = append(rs.ds, startDaemonWith(b, binary, url, kubeconfig, o))
		rs.names = append(rs.names, name)
	}
	return rs
}

// sameRevision: one commit hash is a prefix of the other.
func sameRevision(a, b string) bool {
	return a != "" && b != "" && (strings.HasPrefix(a, b) || strings.HasPrefix(b, a))
}

// awaitConverged polls every live replica's /api/v1/clusters every
// second until every one of the n clusters is listed by exactly one
// replica, in state success on rev; it returns what each replica listed
// (nil for a dead one) and fails the benchmark after limit.
func (rs *replicas) awaitConverged(b *testing.B, n int, rev string, limit time.Duration) [][]clusterView {
	b.Helper()
	deadline := time.Now().Add(limit)
	logged := time.Now()
	for {
		views, behind := rs.poll(b, n, rev)
		switch {
		case len(behind) == 0:
			return views
		case time.Now().After(deadline):
			b.Fatalf("not converged on %.8s after %s:\n%s", rev, limit, strings.Join(behind[:min(20, len(behind))], "\n"))
		case time.Since(logged) >= 30*time.Second:
			b.Logf("%s: %d clusters not converged on %.8s", time.Now().Format(time.TimeOnly), len(behind), rev)
			logged = time.Now()
		}
		time.Sleep(time.Second)
	}
}

// poll reads every live replica's clusters; behind names what is not yet
// converged on rev (a cluster listed by none, or by two, counts).
func (rs *replicas) poll(b *testing.B, n int, rev string) (views [][]clusterView, behind []string) {
	owners := map[string][]string{}
	views = make([][]clusterView, len(rs.ds))
	for i, d := range rs.ds {
		if d.killed {
			continue
		}
		if d.exited() {
			b.Fatalf("%s exited: %v\n%s", rs.names[i], d.err, tail(d.log, 40))
		}
		cs, err := d.clusters(b.Context())
		if err != nil {
			return nil, []string{fmt.Sprintf("%s: %v", rs.names[i], err)}
		}
		views[i] = cs
		for _, c := range cs {
			owners[c.Name] = append(owners[c.Name], rs.names[i])
			if c.State != "success" || !sameRevision(c.Revision, rev) {
				behind = append(behind, fmt.Sprintf("%s on %s: %s at %.8s (wait %q, last error %q)", c.Name, rs.names[i], c.State, c.Revision, c.Wait, c.LastError))
			}
		}
	}
	for i := range n {
		if o := owners[clusterName(i)]; len(o) != 1 {
			behind = append(behind, fmt.Sprintf("%s listed by %v", clusterName(i), o))
		}
	}
	return views, behind
}

// report logs which replica runs which clusters and returns how many each.
func (rs *replicas) report(b *testing.B, views [][]clusterView, when string) []int {
	owned := make([]int, len(views))
	var parts []string
	for i, cs := range views {
		owned[i] = len(cs)
		names := make([]string, len(cs))
		for j, c := range cs {
			names[j] = c.Name
		}
		state := ""
		if rs.ds[i].killed {
			state = " (killed)"
		}
		parts = append(parts, fmt.Sprintf("%s%s %d %v", rs.names[i], state, len(cs), names))
	}
	// One line: a benchmark's log is cut after ten.
	b.Logf("%s, clusters by replica: %s", when, strings.Join(parts, "; "))
	return owned
}

// busiest is the replica that runs the most clusters.
func busiest(owned []int) int {
	best := 0
	for i, c := range owned {
		if c > owned[best] {
			best = i
		}
	}
	return best
}

// awaitStep waits until replica i logged a step of rev carried out: the
// rollout of the change is under way there.
func (rs *replicas) awaitStep(b *testing.B, i int, rev string, limit time.Duration) {
	b.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, s := range readSteps(b, rs.ds[i].log, rs.names[i]) {
			if s.Result == "ok" && sameRevision(s.Revision, rev) {
				return
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	b.Fatalf("%s took no step of %.8s in %s", rs.names[i], rev, limit)
}
