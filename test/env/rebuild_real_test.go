package env_test

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cqldata"
)

// twoDCSpec is realSpec with two one-node datacenters in one region:
// dc2's node is its own seed, so it joins NORMAL without bootstrap and
// holds no data, as the nodes of a datacenter ringops adds (#15).
var twoDCSpec = strings.Replace(realSpec, "    - name: dc1\n      context: eu-west\n      racks: [{name: r1}, {name: r2}]\n",
	"    - {name: dc1, context: eu-west, racks: [{name: r1}]}\n    - {name: dc2, context: eu-west, racks: [{name: r1}]}\n", 1)

// TestSimulatorConformsOnRebuild holds the simulator's rebuild (#15) to a
// real Cassandra 5.0 node, through ringops' own calls: the overload
// ringops sends (jolokia.RebuildOperation, verified in 3.11.17, 4.0.14,
// 4.1.7 and 5.0.1 StorageServiceMBean) from a datacenter that does not
// exist (refused, naming the datacenters), then from dc1: while it
// streams, ringops' progress read (jolokia.ReadProgress) shows a "Rebuild"
// stream plan and a second rebuild is refused ("Node is still
// rebuilding"); the first answers when done; sent again then, it answers
// 200 (-Dcassandra.reset_bootstrap_progress=false, which ringops renders
// into every pod). Restarted without that property, the node refuses it
// ("Discovered existing bootstrap data ... aborting bootstrap", naming
// the ranges it holds: compared by count and shape, see
// canonicalRefusal). On the real nodes, rows written in dc1 before are
// read at LOCAL_ONE in dc2 after the first rebuild: it moved them. The
// real rebuild is made to last: dc1's node streams at 1 MiB/s, 20 MiB of
// uncompressed rows to send.
//
// Run alone (two JVMs): go test ./test/env -run TestSimulatorConformsOnRebuild -v
func TestSimulatorConformsOnRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Cassandra JVMs")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	ro := env.RealOptions()
	ro.Regions = []string{"eu-west"}
	worlds := []*confWorld{newConfWorldSpec(t, "real", env.Start(t, ro), twoDCSpec), newConfWorldSpec(t, "sim", env.Start(t, rebuildSimOptions()), twoDCSpec)}
	for _, c := range worlds {
		rebuildScenario(t, c)
	}
	for _, state := range rebuildStates {
		real, sim := worlds[0].seen[state+"/"+rebuildDst], worlds[1].seen[state+"/"+rebuildDst]
		if real != sim {
			t.Errorf("%s: %s answers differently:\n--- real 5.0 node\n%s\n--- simulated node\n%s", state, rebuildDst, real, sim)
		} else {
			t.Logf("%s: %s answers alike: %s", state, rebuildDst, real)
		}
	}
}

// TestSimulatedRebuildAgain runs the rebuild conformance scenario on the
// simulator alone, through the pods ringops renders: a finished rebuild
// sent again is accepted, because every pod has
// -Dcassandra.reset_bootstrap_progress=false (the scenario fails when the
// rendered StatefulSet lacks it), and refused once the pod restarted
// without it, as a real 5.0 node refuses it.
func TestSimulatedRebuildAgain(t *testing.T) {
	c := newConfWorldSpec(t, "sim", env.Start(t, rebuildSimOptions()), twoDCSpec)
	rebuildScenario(t, c)
	for _, state := range rebuildStates {
		t.Logf("%s: %s", state, c.seen[state+"/"+rebuildDst])
	}
	if got := c.seen["rebuilt again/"+rebuildDst]; got != "status 200, error_type , error " {
		t.Errorf("rebuilt again, with the property: %s", got)
	}
	if got := c.seen["rebuilt again without the property/"+rebuildDst]; !strings.HasPrefix(got, "status 500, error_type \"java.lang.IllegalStateException\"") ||
		!strings.Contains(got, "Discovered existing bootstrap data and cassandra.reset_bootstrap_progress is not configured; aborting bootstrap.") {
		t.Errorf("rebuilt again without the property: %s", got)
	}
}

// rebuildSimOptions: the simulated world of the rebuild scenario, whose
// rebuild lasts 8 s.
func rebuildSimOptions() env.Options {
	so := env.DefaultOptions()
	so.Regions, so.NodesPerRegion = []string{"eu-west"}, 3
	so.Cassandra.BootstrapTime = 8 * time.Second
	return so
}

// The rebuild scenario's pods, and the states it records.
const (
	rebuildSrc, rebuildDst = "tiny-dc1-r1-0", "tiny-dc2-r1-0"
	rebuildRows            = 2000
)

var rebuildStates = []string{"unknown source", "unknown source, raw", "rebuilding", "second rebuild", "rebuilt", "rebuilt again",
	"rebuilt again without the property", "rebuilt again without the property, ringops"}

// rebuildScenario runs the rebuild of TestSimulatorConformsOnRebuild in
// one world, recording the answers in c.seen.
func rebuildScenario(t *testing.T, c *confWorld) {
	t.Helper()
	if twoDCSpec == realSpec {
		t.Fatal("realSpec changed: twoDCSpec no longer replaces its datacenters")
	}
	src, dst := rebuildSrc, rebuildDst
	scaleTo(t, c.region, "tiny-dc1-r1", 1)
	waitReady(t, c.region, src, 3*time.Minute)
	scaleTo(t, c.region, "tiny-dc2-r1", 1)
	waitReady(t, c.region, dst, 3*time.Minute)
	c.waitFor(t, dst, "both nodes live", liveCount(2))
	if c.w.Real != nil {
		fillForRebuild(t, c, rebuildRows)
	}
	n := ringNode(t, c, dst)
	direct := jolokia.NewDirect(jolokia.DirectOptions{Credentials: map[string]jolokia.Credentials{"": {Username: realJolokiaUser, Password: realJolokiaPassword}}})
	ops := jolokia.NewOperations(jolokia.NewClient(direct, jolokia.DefaultOptions()), jolokia.OperationOptions{ExecTimeout: 2 * time.Second})

	_, err := ops.Rebuild(t.Context(), n, "dc9", nil)
	c.seen["unknown source/"+dst] = sortedDCs(fmt.Sprint(err))
	c.seen["unknown source, raw/"+dst] = sortedDCs(c.execWait(t, dst, time.Minute, jolokia.RebuildOperation, "dc9", nil, nil, nil))

	start := time.Now()
	answered := make(chan string, 1)
	go func() { answered <- c.execWait(t, dst, 10*time.Minute, jolokia.RebuildOperation, "dc1", nil, nil, nil) }()
	var tasks []string
	eventually(t, time.Minute, c.name+": a Rebuild stream in "+dst+"'s progress", func() (bool, string) {
		p, err := ops.ReadProgress(t.Context(), n)
		if err != nil {
			return false, err.Error()
		}
		tasks = p.Tasks()
		return slices.Contains(tasks, jolokia.RebuildStream), fmt.Sprint(tasks)
	})
	c.seen["rebuilding/"+dst] = fmt.Sprintf("progress tasks %v", tasks)
	c.seen["second rebuild/"+dst] = c.execWait(t, dst, time.Minute, jolokia.RebuildOperation, "dc1", nil, nil, nil)
	var answer string
	select {
	case answer = <-answered:
	case <-time.After(10 * time.Minute):
		t.Fatalf("%s: the rebuild did not answer in 10 minutes", c.name)
	}
	t.Logf("%s: rebuild answered after %s: %s", c.name, time.Since(start).Round(100*time.Millisecond), answer)
	c.seen["rebuilt/"+dst] = answer
	// Sent again once done, as ringops does when it missed the answer
	// (the call outlived its wait, or ringops restarted): with the
	// property every pod gets (render.ResetBootstrapProgress) 5.0
	// streams what is missing, here nothing.
	again := time.Now()
	c.seen["rebuilt again/"+dst] = c.execWait(t, dst, 10*time.Minute, jolokia.RebuildOperation, "dc1", nil, nil, nil)
	t.Logf("%s: rebuilt again, with nothing missing: answered after %s", c.name, time.Since(again).Round(10*time.Millisecond))
	eventually(t, time.Minute, c.name+": no stream left on "+dst, func() (bool, string) {
		p, err := ops.ReadProgress(t.Context(), n)
		return err == nil && len(p.Streams) == 0, fmt.Sprint(p, err)
	})
	if c.w.Real != nil {
		checkRebuiltRows(t, c, dst, rebuildRows)
	}
	// Without the property (as before render gave it): the ranges the
	// node holds make 5.0 refuse any rebuild of them.
	restartWithout(t, c, "tiny-dc2-r1", dst, render.ResetBootstrapProgress)
	c.waitFor(t, dst, "both nodes live after the restart", liveCount(2))
	byIP, _ := c.pods(t)
	refusal := c.execWait(t, dst, 10*time.Minute, jolokia.RebuildOperation, "dc1", nil, nil, nil)
	t.Logf("%s: rebuilt again without the property: %.700s", c.name, refusal)
	c.seen["rebuilt again without the property/"+dst] = canonicalRefusal(refusal, byIP)
	_, err = ops.Rebuild(t.Context(), ringNode(t, c, dst), "dc1", nil)
	c.seen["rebuilt again without the property, ringops/"+dst] = canonicalRefusal(fmt.Sprint(err), byIP)
}

// checkRebuiltRows reads rows [0, n) of keyspace rb in dc2 at LOCAL_ONE.
func checkRebuiltRows(t *testing.T, c *confWorld, dst string, rows int) {
	t.Helper()
	_, byName := c.pods(t)
	s, err := cqldata.Dial("dc2", byName[dst])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	missing, err := s.Missing(ctx, "rb", 0, rows, gocql.LocalOne)
	if len(missing) > 0 {
		t.Errorf("real: %d of %d rows not in dc2 after the rebuild (first %v; error %v)", len(missing), rows, missing[:min(10, len(missing))], err)
	}
}

// restartWithout takes a JVM option out of the cassandra container's
// JVM_EXTRA_OPTS in StatefulSet sts, and waits until its pod runs again
// with it (the StatefulSet rolls it; its volume stays). It fails when the
// option is not there: ringops renders it into every pod.
func restartWithout(t *testing.T, c *confWorld, sts, pod, option string) {
	t.Helper()
	pods := c.region.Client.CoreV1().Pods("cassandra")
	old, err := pods.Get(t.Context(), pod, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	err = retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		s, err := c.region.Client.AppsV1().StatefulSets("cassandra").Get(t.Context(), sts, metav1.GetOptions{})
		if err != nil {
			return err
		}
		found := false
		for i, ct := range s.Spec.Template.Spec.Containers {
			for j, e := range ct.Env {
				if ct.Name == "cassandra" && e.Name == "JVM_EXTRA_OPTS" && slices.Contains(strings.Fields(e.Value), option) {
					found = true
					opts := slices.DeleteFunc(strings.Fields(e.Value), func(o string) bool { return o == option })
					s.Spec.Template.Spec.Containers[i].Env[j].Value = strings.Join(opts, " ")
				}
			}
		}
		if !found {
			t.Fatalf("%s: statefulset %s: the cassandra container's JVM_EXTRA_OPTS has no %s", c.name, sts, option)
		}
		_, err = c.region.Client.AppsV1().StatefulSets("cassandra").Update(t.Context(), s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 3*time.Minute, c.name+": "+pod+" recreated", func() (bool, string) {
		p, err := pods.Get(t.Context(), pod, metav1.GetOptions{})
		return err == nil && p.UID != old.UID, fmt.Sprint(err)
	})
	waitReady(t, c.region, pod, 3*time.Minute)
}

// addrRE is an IPv4 address, as "/ip" or, in JSON, "\/ip" too.
var addrRE = regexp.MustCompile(`(\\?/)?\b(\d+\.\d+\.\d+\.\d+)\b`)

// podNames names the addresses of pods in s by their pods.
func podNames(s string, byIP map[string]string) string {
	return addrRE.ReplaceAllStringFunc(s, func(m string) string {
		if pod, ok := byIP[addrRE.FindStringSubmatch(m)[2]]; ok {
			return pod
		}
		return m
	})
}

// rangeRE is a token range as Cassandra prints it; refusalListsRE the
// lists of 5.0's refusal of a rebuild on existing bootstrap data.
var (
	rangeRE        = regexp.MustCompile(`\(-?\d+,-?\d+\]`)
	refusalListsRE = regexp.MustCompile(`Found: \[(.*?)\]\. Fully available: \[(.*?)\]\. Transiently available: \[(.*?)\]`)
)

// canonicalRefusal names the addresses of a refusal by their pods, writes
// every range (t,t] and counts the alike items of its lists (Cassandra
// prints them in hash order, and the worlds' tokens differ): what
// remains is the shape of what the node found available, and how much.
func canonicalRefusal(s string, byIP map[string]string) string {
	s = podNames(s, byIP)
	s = rangeRE.ReplaceAllString(s, "(t,t]")
	m := refusalListsRE.FindStringSubmatchIndex(s)
	if m == nil {
		return s
	}
	lists := make([]string, 3)
	for i, sep := range []string{"}, ", ", ", ", "} {
		items := strings.Split(s[m[2+2*i]:m[3+2*i]], sep)
		if items[0] == "" {
			continue
		}
		counts := map[string]int{}
		for j, it := range items {
			if j < len(items)-1 && sep == "}, " {
				it += "}"
			}
			counts[it]++
		}
		var alike []string
		for _, it := range slices.Sorted(maps.Keys(counts)) {
			alike = append(alike, fmt.Sprintf("%d × %s", counts[it], it))
		}
		lists[i] = strings.Join(alike, "; ")
	}
	return s[:m[0]] + fmt.Sprintf("Found: [%s]. Fully available: [%s]. Transiently available: [%s]", lists[0], lists[1], lists[2]) + s[m[1]:]
}

// fillForRebuild writes rows [0, n) into keyspace rb, replicated in dc1
// only, then 20 MiB of uncompressed padding rows, makes dc1's node stream
// at 1 MiB/s, and adds dc2 to rb's replication (as ringops does before a
// rebuild).
func fillForRebuild(t *testing.T, c *confWorld, n int) {
	t.Helper()
	s := fillUncompressed(t, c, "tiny-dc1-r1-0", "rb", n, gocql.LocalOne, []string{"flush", "rb"},
		[]string{"setinterdcstreamthroughput", "-m", "1"}, []string{"setinterdcstreamthroughput", "-e", "1"},
		[]string{"setstreamthroughput", "-m", "1"}, []string{"setstreamthroughput", "-e", "1"})
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if err := s.Exec(ctx, "ALTER KEYSPACE rb WITH replication = {'class': 'NetworkTopologyStrategy', 'dc1': 1, 'dc2': 1}"); err != nil {
		t.Fatal(err)
	}
}

// ringNode is pod as ringops addresses it.
func ringNode(t *testing.T, c *confWorld, pod string) ring.Node {
	t.Helper()
	_, byName := c.pods(t)
	return ring.Node{Context: "eu-west", Namespace: "cassandra", Pod: pod, IP: byName[pod]}
}

// dcListRE is the list of datacenters a refused rebuild names, in the
// order of a Java hash set.
var dcListRE = regexp.MustCompile(`available datacenters are: ([\w,-]+)`)

// sortedDCs sorts the datacenter list of a refusal.
func sortedDCs(s string) string {
	return dcListRE.ReplaceAllStringFunc(s, func(m string) string {
		list := strings.Split(dcListRE.FindStringSubmatch(m)[1], ",")
		slices.Sort(list)
		return "available datacenters are: " + strings.Join(list, ",")
	})
}
