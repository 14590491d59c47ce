package env_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/cqldata"
)

// TestSimulatorConformsOnCleanup holds the simulator's cleanup (#15, #16)
// to a real Cassandra 5.0 node, through ringops' own calls, on the node
// that gained a neighbour: dc1's first node holds keyspace cl (factor 1)
// alone, then the second rack's node bootstraps and takes half its
// ranges. While the neighbour joins, a cleanup sent to the first node is
// answered as the node answers it (5.0.1 refuses only a node with pending
// ranges of its own, StorageService.java:4110) and ringops does not send
// one (ErrRingBusy). Once it joined, ringops' cleanup (jolokia.Cleanup,
// every keyspace of StorageService.Keyspaces but the local ones) answers
// done, each keyspace's forceKeyspaceCleanup answers 0, a local system
// keyspace and an unknown one are refused, and no Cleanup compaction is
// left in ringops' progress read. On the real nodes every row of cl is
// still read at ONE after the cleanup, and the first node's load drops
// (logged: the simulator's load never changes, and ringops does not read
// it to judge a cleanup).
//
// Run alone (two JVMs): go test ./test/env -run TestSimulatorConformsOnCleanup -v
func TestSimulatorConformsOnCleanup(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Cassandra JVMs")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	ro := env.RealOptions()
	ro.Regions = []string{"eu-west"}
	so := env.DefaultOptions()
	so.Regions, so.NodesPerRegion = []string{"eu-west"}, 3
	sc := *so.Cassandra
	sc.BootstrapTime, sc.CleanupTime = 20*time.Second, 6*time.Second
	sc.Keyspaces = append(slices.Clone(sc.Keyspaces), cassandra.Keyspace{Name: "cl", Replication: map[string]int{"dc1": 1}})
	so.Cassandra = &sc
	worlds := []*confWorld{newConfWorld(t, "real", env.Start(t, ro)), newConfWorld(t, "sim", env.Start(t, so))}
	for _, c := range worlds {
		cleanupScenario(t, c)
	}
	for _, state := range cleanupStates {
		real, sim := worlds[0].seen[state+"/"+cleanupNode], worlds[1].seen[state+"/"+cleanupNode]
		if real != sim {
			t.Errorf("%s: %s answers differently:\n--- real 5.0 node\n%s\n--- simulated node\n%s", state, cleanupNode, real, sim)
		} else {
			t.Logf("%s: %s answers alike: %s", state, cleanupNode, real)
		}
	}
}

// The node the cleanup scenario cleans up, its new neighbour, and the
// states it records.
const (
	cleanupNode, cleanupNeighbour = "tiny-dc1-r1-0", "tiny-dc1-r2-0"
	cleanupRows                   = 2000
)

var cleanupStates = []string{"keyspaces", "neighbour joining, raw", "neighbour joining, ringops",
	"cleanup, ringops", "cleaning up", "cleanup, raw", "cleanup of system", "cleanup of an unknown keyspace", "progress after"}

// cleanupScenario runs the cleanup of TestSimulatorConformsOnCleanup in
// one world, recording the answers in c.seen.
func cleanupScenario(t *testing.T, c *confWorld) {
	t.Helper()
	pod := cleanupNode
	scaleTo(t, c.region, "tiny-dc1-r1", 1)
	waitReady(t, c.region, pod, 3*time.Minute)
	c.waitFor(t, pod, "alone and live", liveCount(1))
	if c.w.Real != nil {
		fillForCleanup(t, c, cleanupRows)
	}
	n := ringNode(t, c, pod)
	direct := jolokia.NewDirect(jolokia.DirectOptions{Credentials: map[string]jolokia.Credentials{"": {Username: realJolokiaUser, Password: realJolokiaPassword}}})
	ops := jolokia.NewOperations(jolokia.NewClient(direct, jolokia.DefaultOptions()), jolokia.OperationOptions{ExecTimeout: time.Minute})
	cleanup := func(ks string) string {
		out, err := c.post(t, pod, []map[string]any{{"type": "exec", "mbean": jolokia.StorageServiceMBean,
			"operation": jolokia.CleanupOperation, "arguments": []any{1, ks, []string{}}}})
		if err != nil || len(out) == 0 {
			return fmt.Sprintf("no answer: %v", err)
		}
		return fmt.Sprintf("status %s, value %s, error_type %s, error %s", out[0]["status"], out[0]["value"], out[0]["error_type"], out[0]["error"])
	}

	scaleTo(t, c.region, "tiny-dc1-r2", 1)
	c.waitFor(t, pod, cleanupNeighbour+" joining", func(a map[string]json.RawMessage, byIP map[string]string) bool {
		return joiningSeen(a, byIP, cleanupNeighbour)
	})
	raw := cleanup("cl")
	_, err := ops.Cleanup(t.Context(), n, 1, nil)
	a, herr := c.health(t, pod)
	byIP, _ := c.pods(t)
	still := herr == nil && joiningSeen(a, byIP, cleanupNeighbour)
	c.seen["neighbour joining, raw/"+pod] = fmt.Sprintf("%s (still joining after: %t)", raw, still)
	c.seen["neighbour joining, ringops/"+pod] = podNames(fmt.Sprint(err), byIP)

	waitReady(t, c.region, cleanupNeighbour, 3*time.Minute)
	c.waitFor(t, pod, "both nodes live", liveCount(2))
	var ks []string
	_ = json.Unmarshal(c.readAttr(t, pod, "Keyspaces"), &ks)
	slices.Sort(ks)
	c.seen["keyspaces/"+pod] = fmt.Sprint(ks)
	before := c.load(t, pod)
	if c.w.Real != nil { // the cleanup lasts: 20 MiB to rewrite at 1 MiB/s
		if out, err := c.w.Real.Node("eu-west", "cassandra", pod).Nodetool(t.Context(), "setcompactionthroughput", "1"); err != nil {
			t.Fatalf("real: nodetool setcompactionthroughput 1: %v\n%s", err, out)
		}
	}
	start := time.Now()
	short := jolokia.NewOperations(jolokia.NewClient(direct, jolokia.DefaultOptions()), jolokia.OperationOptions{ExecTimeout: 2 * time.Second})
	done, err := short.Cleanup(t.Context(), n, 1, nil)
	c.seen["cleanup, ringops/"+pod] = fmt.Sprintf("done %t, error %v", done, err)
	c.seen["cleaning up/"+pod] = cleaningUp(t, c, ops, n)
	eventually(t, 10*time.Minute, c.name+": the cleanup of "+pod+" over", func() (bool, string) {
		p, err := ops.ReadProgress(t.Context(), n)
		return err == nil && p.CompactionsKnown && !p.CleaningUp(), fmt.Sprint(p, err)
	})
	t.Logf("%s: ringops' cleanup of %s over after %s", c.name, pod, time.Since(start).Round(100*time.Millisecond))
	var answers []string
	for _, k := range []string{"cl", "system_auth", "system_distributed", "system_traces"} {
		answers = append(answers, k+": "+cleanup(k))
	}
	c.seen["cleanup, raw/"+pod] = strings.Join(answers, "; ")
	c.seen["cleanup of system/"+pod] = cleanup("system")
	c.seen["cleanup of an unknown keyspace/"+pod] = cleanup("nosuch")
	if p, err := ops.ReadProgress(t.Context(), n); err != nil {
		c.seen["progress after/"+pod] = err.Error()
	} else {
		c.seen["progress after/"+pod] = fmt.Sprintf("tasks %v, cleaning up %t", p.Tasks(), p.CleaningUp())
	}
	t.Logf("%s: %s's load before the cleanup %s, after %s", c.name, pod, before, c.load(t, pod))
	if c.w.Real != nil {
		_, byName := c.pods(t)
		s, err := cqldata.Dial("dc1", byName[pod], byName[cleanupNeighbour])
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
		defer cancel()
		if missing, err := s.Missing(ctx, "cl", 0, cleanupRows, gocql.One); len(missing) > 0 {
			t.Errorf("real: %d of %d rows of cl lost by the cleanup (first %v; error %v)", len(missing), cleanupRows, missing[:min(10, len(missing))], err)
		}
	}
}

// cleaningUp is what ringops' progress read shows of a cleanup under way,
// twice 3 s apart, and the fields of the compaction as the agent gives
// them: the tasks, the keyspace cleaned up, whether a table is named and
// whether the work done grew (ringops' stall detection compares
// Progress.Signature).
func cleaningUp(t *testing.T, c *confWorld, ops *jolokia.Operations, n ring.Node) string {
	t.Helper()
	var first, second *jolokia.Progress
	eventually(t, time.Minute, c.name+": a Cleanup compaction", func() (bool, string) {
		p, err := ops.ReadProgress(t.Context(), n)
		first = p
		return err == nil && p.CleaningUp(), fmt.Sprint(p, err)
	})
	time.Sleep(3 * time.Second)
	second, err := ops.ReadProgress(t.Context(), n)
	if err != nil {
		return err.Error()
	}
	var ks []string
	named := true
	for _, cp := range first.Compactions {
		if cp.TaskType == jolokia.CleanupTask {
			ks, named = append(ks, cp.Keyspace), named && cp.Table != ""
		}
	}
	var fields []string
	if list, err := c.post(t, n.Pod, []map[string]any{{"type": "read", "mbean": jolokia.CompactionManagerMBean, "attribute": "Compactions"}}); err == nil && len(list) > 0 {
		t.Logf("%s: compactions while %s cleans up: %s", c.name, n.Pod, list[0]["value"])
		var cs []map[string]string
		_ = json.Unmarshal(list[0]["value"], &cs)
		for _, cp := range cs[:min(1, len(cs))] {
			for _, k := range slices.Sorted(maps.Keys(cp)) {
				fields = append(fields, k+":"+valueKind(cp[k]))
			}
		}
	}
	return fmt.Sprintf("tasks %v, keyspaces %v, tables named %t, moved in 3 s %t (still cleaning up: %t); compaction fields %v",
		first.Tasks(), ks, named, first.Signature() != second.Signature(), second.CleaningUp(), fields)
}

// valueKind is the shape of a CompactionInfo value: empty, a number, a
// UUID, an sstable list, a data file, or text.
func valueKind(v string) string {
	switch {
	case v == "":
		return "empty"
	case uuidRE.MatchString(v):
		return "uuid"
	case numberRE.MatchString(v):
		return "number"
	case pathRE.MatchString(v):
		return "data file"
	case sstablesRE.MatchString(v):
		return "sstables"
	}
	return "text"
}

var (
	numberRE   = regexp.MustCompile(`^-?\d+$`)
	sstablesRE = regexp.MustCompile(`^\w+TableReader(:\w+)?\(path='[^']*'\)(,|$)`)
	pathRE     = regexp.MustCompile(`^/\S+-Data\.db$`)
)

// joiningSeen: pod is in the JoiningNodes of a health read.
func joiningSeen(a map[string]json.RawMessage, byIP map[string]string, pod string) bool {
	var j []string
	_ = json.Unmarshal(a["JoiningNodes"], &j)
	return slices.ContainsFunc(j, func(ip string) bool { return byIP[strings.TrimPrefix(strings.Split(ip, ":")[0], "/")] == pod })
}

// fillForCleanup writes rows [0, n) into keyspace cl, replicated once in
// dc1, on its only node, then 20 MiB of uncompressed padding rows, and
// flushes them.
func fillForCleanup(t *testing.T, c *confWorld, n int) {
	t.Helper()
	fillUncompressed(t, c, cleanupNode, "cl", n, gocql.One, []string{"flush", "cl"}).Close()
}

// fillUncompressed writes rows [0, n) into keyspace ks, replicated once in
// dc1, through pod at cl, then 20 MiB of uncompressed padding rows (rows
// 1,000,000 and on), and runs each nodetool command on pod's real node. It
// returns the open session; the caller closes it.
func fillUncompressed(t *testing.T, c *confWorld, pod, ks string, n int, cl gocql.Consistency, nodetool ...[]string) *cqldata.Session {
	t.Helper()
	_, byName := c.pods(t)
	s, err := cqldata.Dial("dc1", byName[pod])
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	fail := func(err error) {
		s.Close()
		t.Fatal(err)
	}
	if err := s.CreateKeyspace(ctx, ks, map[string]int{"dc1": 1}); err != nil {
		fail(err)
	}
	if err := s.Exec(ctx, "ALTER TABLE "+ks+".rows WITH compression = {'enabled': false}"); err != nil {
		fail(err)
	}
	if err := s.Write(ctx, ks, 0, n, cl); err != nil {
		fail(err)
	}
	if err := s.Fill(ctx, ks, 1_000_000, 1_020_000, 1024, cl); err != nil {
		fail(err)
	}
	node := c.w.Real.Node("eu-west", "cassandra", pod)
	for _, args := range nodetool {
		if out, err := node.Nodetool(ctx, args...); err != nil {
			fail(fmt.Errorf("real: nodetool %v: %v\n%s", args, err, out))
		}
	}
	return s
}

// readAttr reads an attribute of StorageService on pod (null when the
// read fails).
func (c *confWorld) readAttr(t *testing.T, pod, attr string) json.RawMessage {
	t.Helper()
	out, err := c.post(t, pod, []map[string]any{{"type": "read", "mbean": jolokia.StorageServiceMBean, "attribute": attr}})
	if err != nil || len(out) == 0 {
		t.Errorf("%s: read %s of %s: %v", c.name, attr, pod, err)
		return json.RawMessage("null")
	}
	return out[0]["value"]
}

// load is pod's own load in its LoadMap.
func (c *confWorld) load(t *testing.T, pod string) string {
	t.Helper()
	var m map[string]string
	_ = json.Unmarshal(c.readAttr(t, pod, "LoadMap"), &m)
	_, byName := c.pods(t)
	for ep, l := range m {
		if strings.TrimPrefix(strings.Split(ep, ":")[0], "/") == byName[pod] {
			return l
		}
	}
	return fmt.Sprint(m)
}
