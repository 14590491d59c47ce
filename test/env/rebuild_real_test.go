package env_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
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
// 200 (5.0 refused it before ringops rendered
// -Dcassandra.reset_bootstrap_progress=false into every pod). On the real nodes, rows
// written in dc1 before are then read at LOCAL_ONE in dc2: the rebuild
// moved them. The real rebuild is made to last: dc1's node streams at
// 1 MiB/s, 20 MiB of uncompressed rows to send.
//
// Run alone (two JVMs): go test ./test/env -run TestSimulatorConformsOnRebuild -v
func TestSimulatorConformsOnRebuild(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Cassandra JVMs")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	if twoDCSpec == realSpec {
		t.Fatal("realSpec changed: twoDCSpec no longer replaces its datacenters")
	}
	ro := env.RealOptions()
	ro.Regions = []string{"eu-west"}
	so := env.DefaultOptions()
	so.Regions, so.NodesPerRegion = []string{"eu-west"}, 3
	so.Cassandra.BootstrapTime = 8 * time.Second // the simulated rebuild's length
	worlds := []*confWorld{newConfWorldSpec(t, "real", env.Start(t, ro), twoDCSpec), newConfWorldSpec(t, "sim", env.Start(t, so), twoDCSpec)}
	const (
		src, dst = "tiny-dc1-r1-0", "tiny-dc2-r1-0"
		rows     = 2000
	)
	for _, c := range worlds {
		scaleTo(t, c.region, "tiny-dc1-r1", 1)
		waitReady(t, c.region, src, 3*time.Minute)
		scaleTo(t, c.region, "tiny-dc2-r1", 1)
		waitReady(t, c.region, dst, 3*time.Minute)
		c.waitFor(t, dst, "both nodes live", liveCount(2))
		if c.w.Real != nil {
			fillForRebuild(t, c, rows)
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
		// streams what is missing, here nothing; without it, it refuses
		// ("Discovered existing bootstrap data ... aborting").
		c.seen["rebuilt again/"+dst] = c.execWait(t, dst, 10*time.Minute, jolokia.RebuildOperation, "dc1", nil, nil, nil)
		eventually(t, time.Minute, c.name+": no stream left on "+dst, func() (bool, string) {
			p, err := ops.ReadProgress(t.Context(), n)
			return err == nil && len(p.Streams) == 0, fmt.Sprint(p, err)
		})
		if c.w.Real != nil {
			_, byName := c.pods(t)
			s, err := cqldata.Dial("dc2", byName[dst])
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			missing, err := s.Missing(ctx, "rb", 0, rows, gocql.LocalOne)
			cancel()
			s.Close()
			if len(missing) > 0 {
				t.Errorf("real: %d of %d rows not in dc2 after the rebuild (first %v; error %v)", len(missing), rows, missing[:min(10, len(missing))], err)
			}
		}
	}
	for _, state := range []string{"unknown source", "unknown source, raw", "rebuilding", "second rebuild", "rebuilt", "rebuilt again"} {
		real, sim := worlds[0].seen[state+"/"+dst], worlds[1].seen[state+"/"+dst]
		if real != sim {
			t.Errorf("%s: %s answers differently:\n--- real 5.0 node\n%s\n--- simulated node\n%s", state, dst, real, sim)
		} else {
			t.Logf("%s: %s answers alike: %s", state, dst, real)
		}
	}
}

// fillForRebuild writes rows [0, n) into keyspace rb, replicated in dc1
// only, then 20 MiB of uncompressed padding rows, makes dc1's node stream
// at 1 MiB/s, and adds dc2 to rb's replication (as ringops does before a
// rebuild).
func fillForRebuild(t *testing.T, c *confWorld, n int) {
	t.Helper()
	_, byName := c.pods(t)
	s, err := cqldata.Dial("dc1", byName["tiny-dc1-r1-0"])
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if err := s.CreateKeyspace(ctx, "rb", map[string]int{"dc1": 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.Exec(ctx, "ALTER TABLE rb.rows WITH compression = {'enabled': false}"); err != nil {
		t.Fatal(err)
	}
	if err := s.Write(ctx, "rb", 0, n, gocql.LocalOne); err != nil {
		t.Fatal(err)
	}
	if err := s.Fill(ctx, "rb", 1_000_000, 1_020_000, 1024, gocql.LocalOne); err != nil {
		t.Fatal(err)
	}
	node := c.w.Real.Node("eu-west", "cassandra", "tiny-dc1-r1-0")
	for _, args := range [][]string{{"flush", "rb"}, {"setinterdcstreamthroughput", "-m", "1"}, {"setinterdcstreamthroughput", "-e", "1"},
		{"setstreamthroughput", "-m", "1"}, {"setstreamthroughput", "-e", "1"}} {
		if out, err := node.Nodetool(ctx, args...); err != nil {
			t.Fatalf("real: nodetool %v: %v\n%s", args, err, out)
		}
	}
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
