package cassandra

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// MBeans of the long operations' progress.
const (
	StreamManagerMBean     = "org.apache.cassandra.net:type=StreamManager"
	CompactionManagerMBean = "org.apache.cassandra.db:type=CompactionManager"
	// OldSSTablesMBean is the global gauge of TableMetrics'
	// OldVersionSSTableCount (4.0.14 TableMetrics.java:580, 5.0.1 :632);
	// 3.x has none.
	OldSSTablesMBean = "org.apache.cassandra.metrics:type=Table,name=OldVersionSSTableCount"
)

// upgradeSSTablesParams is the overload of upgradeSSTables every release
// has (3.11.17 StorageServiceMBean.java:315 to 5.0.1 :442).
var upgradeSSTablesParams = []string{"java.lang.String", "boolean", "int", "[Ljava.lang.String;"}

// bytesPerSecond is how fast a simulated stream moves data.
const bytesPerSecond = 64 << 20

// streamPlan is a stream session a node runs (a bootstrap receiving, a
// decommission sending): StreamManager.CurrentStreams shows it while it
// runs, its bytes moving with time.
type streamPlan struct {
	id, desc   string
	sending    bool
	start, end time.Time
	hung       bool // no byte moves (Faults.HangDecommission)
}

var planSeq atomic.Int64

func newStreamPlan(desc string, sending bool, d time.Duration) *streamPlan {
	now := time.Now()
	return &streamPlan{id: nameUUID("plan/" + strconv.FormatInt(planSeq.Add(1), 10)), desc: desc, sending: sending, start: now, end: now.Add(d)}
}

// composite is the plan as StreamStateCompositeData (3.11.17, 4.1.7 and
// 5.0.1 StreamStateCompositeData.java: planId, description, sessions,
// current/total Rx/Tx bytes and percentages).
func (p *streamPlan) composite(now time.Time) map[string]any {
	total := int64(p.end.Sub(p.start).Seconds()*bytesPerSecond) + 1
	done := min(total, int64(now.Sub(p.start).Seconds()*bytesPerSecond))
	if p.hung {
		done = 0
	}
	pct := float64(done) * 100 / float64(total)
	m := map[string]any{"planId": p.id, "description": p.desc, "sessions": []any{},
		"currentRxBytes": int64(0), "totalRxBytes": int64(0), "rxPercentage": 0.0,
		"currentTxBytes": int64(0), "totalTxBytes": int64(0), "txPercentage": 0.0}
	dir := "Rx"
	if p.sending {
		dir = "Tx"
	}
	m["current"+dir+"Bytes"], m["total"+dir+"Bytes"] = done, total
	m[map[string]string{"Rx": "rxPercentage", "Tx": "txPercentage"}[dir]] = pct
	return m
}

// upgradeTask is an upgradeSSTables rewriting one keyspace.
type upgradeTask struct {
	keyspace   string
	start, end time.Time
}

// streams lists the node's stream plans (mu held).
func (n *Node) streams() []map[string]any {
	now := time.Now()
	out := []map[string]any{}
	if n.booting != nil {
		out = append(out, n.booting.composite(now))
	}
	if n.decom != nil && n.decom.stream != nil {
		out = append(out, n.decom.stream.composite(now))
	}
	if n.rebuilding != nil {
		out = append(out, n.rebuilding.composite(now))
	}
	return out
}

// compactions is CompactionManager.Compactions: CompactionInfo.asMap of
// each task, every value a string (mu held).
func (n *Node) compactions() []map[string]string {
	now := time.Now()
	out := []map[string]string{}
	for _, u := range n.upgrades {
		total := int64(u.end.Sub(u.start).Milliseconds()) + 1
		done := min(total, int64(now.Sub(u.start).Milliseconds()))
		out = append(out, n.compactionInfo("Upgrade sstables", u.keyspace, nameUUID("upgrade/"+u.keyspace+u.start.String()), done, total))
	}
	return append(out, n.cleanupCompactions(now)...)
}

// compactionInfo is CompactionInfo.asMap of a task on a table "data" of
// keyspace ks, as the node's release gives it: 3.11.17's eight fields
// (CompactionInfo.java:147-154); from 4.1.7 the sstables read (:157,
// "BigTableReader(path='...')", 5.0 adding the format:
// "BigTableReader:big(path='...')", SSTable.java:300-303); from 5.0.1 the
// targetDirectory, the sstable written (:222-223); after 5.0.1
// totalCompressed, total for uncompressed data (5.0.9's real node has it,
// TestSimulatorConformsOnCleanup; the patch release that added it is not
// checked).
func (n *Node) compactionInfo(taskType, ks, id string, done, total int64) map[string]string {
	m := map[string]string{"id": nameUUID("table/" + ks), "keyspace": ks, "columnfamily": "data",
		"completed": strconv.FormatInt(done, 10), "total": strconv.FormatInt(total, 10), "taskType": taskType,
		"unit": "bytes", "compactionId": id}
	if n.version.legacy() {
		return m
	}
	dir := "/var/lib/cassandra/data/" + ks + "/data-" + strings.ReplaceAll(m["id"], "-", "")
	file := func(gen int) string {
		return fmt.Sprintf("%s/%s-%d-big-Data.db", dir, sstableFormat(n.cfg.ReleaseVersion), gen)
	}
	if !n.version.fiveOh() {
		m["sstables"] = "BigTableReader(path='" + file(1) + "')"
		return m
	}
	m["sstables"] = "BigTableReader:big(path='" + file(1) + "')"
	m["targetDirectory"] = file(2)
	if major, minor := series(n.cfg.ReleaseVersion); major > 5 || minor > 0 || patchOf(n.cfg.ReleaseVersion) > 1 {
		m["totalCompressed"] = m["total"]
	}
	return m
}

// patchOf is the patch number of a release ("5.0.9": 9; 0 when none).
func patchOf(release string) int {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 3 {
		return 0
	}
	digits := parts[2]
	if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		digits = digits[:i]
	}
	p, _ := strconv.Atoi(digits)
	return p
}

// operationBeans are the MBeans of the long operations' progress.
func (n *Node) operationBeans() map[string]*bean {
	beans := map[string]*bean{
		StreamManagerMBean: newBean(map[string]func() any{
			"CurrentStreams": read(n, n.streams),
		}),
		CompactionManagerMBean: newBean(map[string]func() any{
			"Compactions": read(n, n.compactions),
		}),
	}
	if !n.version.legacy() {
		beans[canonicalName(OldSSTablesMBean)] = newBean(map[string]func() any{
			"Value": read(n, n.oldSSTables),
		})
	}
	return beans
}

// operations are StorageService.resumeBootstrap and upgradeSSTables, and
// rebuild and forceKeyspaceCleanup (rebuild.go).
func (n *Node) operations() []operation {
	return append(n.rebuildOperations(),
		operation{
			sig:  jolokia.Operation{Name: "resumeBootstrap", Params: []string{}, Return: "boolean"},
			call: func([]any) (any, error) { return n.resumeBootstrap(), nil },
		},
		operation{
			sig: jolokia.Operation{Name: "upgradeSSTables", Params: upgradeSSTablesParams, Return: "int"},
			call: func(args []any) (any, error) {
				ks, _ := args[0].(string)
				exclude, _ := args[1].(bool)
				return n.upgradeSSTables(ks, exclude)
			},
		},
	)
}

// bootstrap starts (or resumes) streaming the node's data in (mu held).
func (n *Node) bootstrap() {
	n.booting = newStreamPlan("Bootstrap", false, n.sim.opts.BootstrapTime)
}

// bootstrapTick ends the bootstrap stream: NORMAL, or a failure (mu held).
// A failed bootstrap leaves 3.11 and 4.x JOINING ("Some data streaming
// failed. Use nodetool to check bootstrap state and resume", 4.1.7
// StorageService.java:1256) and 5.0 JOINING_FAILED (5.0.1 :2202); the
// node stays BOOT in gossip, so the others keep it joining.
func (n *Node) bootstrapTick(now time.Time) {
	if n.booting == nil || now.Before(n.booting.end) || n.faults.NeverFinishJoining {
		return
	}
	n.booting = nil
	if n.faults.FailBootstrap {
		if n.version.fiveOh() && n.mode == ModeJoining {
			n.mode = ModeJoiningFailed
		}
		return
	}
	n.becomeNormal(now)
	n.disk.bootstrapped = true
	n.update(func(e *endpoint) { e.status = statusNormal })
	n.finishReplacement() // replace.go
	n.recordBootstrap()   // available.go
}

// resumeBootstrap is StorageService.resumeBootstrap: when the node is
// bootstrapping, it streams again in the background and answers true at
// once, else false (4.1.7 StorageService.java:2127-2194). It does not
// check that a bootstrap streams already (a second one would stream
// everything twice: Overlaps counts them), and 5.0 does not leave
// JOINING_FAILED while the resumed bootstrap streams (5.0.1 :2253-2327).
func (n *Node) resumeBootstrap() bool {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	if n.disk.bootstrapped || (n.mode != ModeJoining && n.mode != ModeJoiningFailed) {
		return false
	}
	if n.booting != nil {
		n.overlaps++
	}
	n.bootstrap()
	return true
}

// upgradeSSTables is StorageService.upgradeSSTables(keyspace,
// excludeCurrentVersion, jobs, tables): it rewrites the keyspace's old
// sstables (all of them without excludeCurrentVersion) and answers once
// done: 0, or 2 (UNABLE_TO_CANCEL) while another upgrade of the keyspace
// runs.
func (n *Node) upgradeSSTables(ks string, exclude bool) (any, error) {
	s := n.sim
	s.mu.Lock()
	known := false
	for _, k := range s.keyspaceNames() {
		known = known || k == ks
	}
	if !known {
		s.mu.Unlock()
		return nil, jmxErr(javaIllegalArgument, "Unknown keyspace %s", ks)
	}
	for _, u := range n.upgrades {
		if u.keyspace == ks {
			s.mu.Unlock()
			return 2, nil
		}
	}
	if exclude && n.disk.old[ks] == 0 {
		s.mu.Unlock()
		return 0, nil
	}
	now := time.Now()
	task := &upgradeTask{keyspace: ks, start: now, end: now.Add(s.opts.UpgradeTime)}
	n.upgrades = append(n.upgrades, task)
	s.mu.Unlock()

	t := time.NewTimer(s.opts.UpgradeTime)
	defer t.Stop()
	select {
	case <-t.C:
	case <-n.done:
		return nil, jmxErr(javaRuntime, "Node stopped while upgrading sstables")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, u := range n.upgrades {
		if u == task {
			n.upgrades = append(n.upgrades[:i], n.upgrades[i+1:]...)
			break
		}
	}
	delete(n.disk.old, ks)
	return 0, nil
}
