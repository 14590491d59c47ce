package jolokia

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/ringops/ringops/reconciler/ring"
)

// MBeans of the progress of long operations.
const (
	// StreamManagerMBean lists the stream plans under way (bootstrap,
	// decommission, rebuild, repair): StreamManagerMBean.OBJECT_NAME in
	// 3.11.17, 4.1.7 and 5.0.1 (StreamManagerMBean.java:26).
	StreamManagerMBean = "org.apache.cassandra.net:type=StreamManager"
	// CompactionManagerMBean lists the compactions running, upgradesstables
	// included (CompactionManagerMBean.getCompactions, 3.11.17 to 5.0.1).
	CompactionManagerMBean = "org.apache.cassandra.db:type=CompactionManager"
	// OldSSTablesMBean is the gauge summing, over every table of the node,
	// the live sstables not on the newest format its release writes
	// (TableMetrics.oldVersionSSTableCount, registered with the global
	// "Table" factory: 4.0.14 TableMetrics.java:580, 5.0.1 :632). Cassandra
	// 3.x has no such metric.
	OldSSTablesMBean = "org.apache.cassandra.metrics:type=Table,name=OldVersionSSTableCount"
)

// UpgradeTask is the taskType of an upgradesstables compaction
// (OperationType.UPGRADE_SSTABLES, the same in 3.11.17, 4.1.7 and 5.0.1).
const UpgradeTask = "Upgrade sstables"

// Progress is what a node's agent says of its long operations: the streams
// of a bootstrap or decommission, the compactions of an upgradesstables,
// and how many sstables are left on an older format. Each part is optional:
// a part the agent could not answer is unknown.
type Progress struct {
	// Streams are the stream plans under way; StreamsKnown is false when
	// they could not be read.
	Streams      []Stream `json:"streams,omitempty"`
	StreamsKnown bool     `json:"streamsKnown"`
	// Compactions are the compactions running (taskType "Compaction",
	// "Upgrade sstables", ...); CompactionsKnown is false when they could
	// not be read.
	Compactions      []Compaction `json:"compactions,omitempty"`
	CompactionsKnown bool         `json:"compactionsKnown"`
	// OldSSTables is the number of live sstables not on the newest format
	// of the node's release, -1 when unknown (Cassandra 3.x, or the read
	// failed).
	OldSSTables int64 `json:"oldSSTables"`
}

// Stream is one stream plan: its purpose ("Bootstrap", "Unbootstrap",
// "Rebuild", ...) and the bytes received and sent so far.
type Stream struct {
	PlanID      string `json:"planId"`
	Description string `json:"description"`
	Bytes       int64  `json:"bytes"`
}

// Compaction is one compaction running: its task type and how far it is.
type Compaction struct {
	TaskType  string `json:"taskType"`
	Keyspace  string `json:"keyspace,omitempty"`
	Table     string `json:"table,omitempty"`
	Completed int64  `json:"completed"`
	Total     int64  `json:"total"`
}

// Upgrading reports whether an upgradesstables compaction runs.
func (p *Progress) Upgrading() bool {
	for _, c := range p.Compactions {
		if c.TaskType == UpgradeTask {
			return true
		}
	}
	return false
}

// Signature sums up what moves while a long operation progresses: the
// bytes of every stream, the work done by the upgradesstables and cleanup
// compactions and the count of old sstables. Two reads with the same signature saw no
// progress in between.
func (p *Progress) Signature() string {
	var parts []string
	for _, s := range p.Streams {
		parts = append(parts, "s:"+s.PlanID+"="+strconv.FormatInt(s.Bytes, 10))
	}
	for _, c := range p.Compactions {
		switch c.TaskType {
		case UpgradeTask:
			parts = append(parts, "u:"+c.Keyspace+"."+c.Table+"="+strconv.FormatInt(c.Completed, 10))
		case CleanupTask: // replace (#16)
			parts = append(parts, "c:"+c.Keyspace+"."+c.Table+"="+strconv.FormatInt(c.Completed, 10))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, ";") + ";old=" + strconv.FormatInt(p.OldSSTables, 10)
}

// ProgressReader reads the progress of a node's long operations.
type ProgressReader interface {
	ReadProgress(ctx context.Context, n ring.Node) (*Progress, error)
}

var _ ProgressReader = (*Operations)(nil)

var progressRequests = []Request{
	{Type: "read", MBean: StreamManagerMBean, Attribute: "CurrentStreams"},
	{Type: "read", MBean: CompactionManagerMBean, Attribute: "Compactions"},
	{Type: "read", MBean: OldSSTablesMBean, Attribute: "Value"},
}

// ReadProgress reads, in one bulk POST, StreamManager.CurrentStreams,
// CompactionManager.Compactions and the OldVersionSSTableCount gauge. A
// part that fails (a 404 on 3.x, a value of another shape) is left
// unknown; the error covers the call only.
func (o *Operations) ReadProgress(ctx context.Context, n ring.Node) (*Progress, error) {
	resps, err := o.ops.Bulk(ctx, n, progressRequests)
	if err != nil {
		return nil, fmt.Errorf("read progress: %w", err)
	}
	p := &Progress{OldSSTables: -1}
	if resps[0].Status == 200 {
		p.Streams, p.StreamsKnown = decodeStreams(resps[0].Value)
	}
	if resps[1].Status == 200 {
		p.Compactions, p.CompactionsKnown = decodeCompactions(resps[1].Value)
	}
	var old json.Number
	if resps[2].Status == 200 && json.Unmarshal(resps[2].Value, &old) == nil {
		if v, err := old.Int64(); err == nil && v >= 0 {
			p.OldSSTables = v
		}
	}
	return p, nil
}

// decodeStreams decodes the StreamState composites (StreamStateCompositeData:
// planId, description, currentRxBytes, currentTxBytes, ...; the same items
// in 3.11.17, 4.1.7 and 5.0.1).
func decodeStreams(raw json.RawMessage) ([]Stream, bool) {
	var states []struct {
		PlanID         string          `json:"planId"`
		Description    string          `json:"description"`
		CurrentRxBytes json.RawMessage `json:"currentRxBytes"`
		CurrentTxBytes json.RawMessage `json:"currentTxBytes"`
	}
	if json.Unmarshal(raw, &states) != nil {
		return nil, false
	}
	out := make([]Stream, 0, len(states))
	for _, s := range states {
		out = append(out, Stream{PlanID: s.PlanID, Description: s.Description,
			Bytes: number(s.CurrentRxBytes) + number(s.CurrentTxBytes)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PlanID < out[j].PlanID })
	return out, true
}

// decodeCompactions decodes CompactionInfo.asMap entries (every value a
// string: "completed": "1024").
func decodeCompactions(raw json.RawMessage) ([]Compaction, bool) {
	var list []map[string]json.RawMessage
	if json.Unmarshal(raw, &list) != nil {
		return nil, false
	}
	out := make([]Compaction, 0, len(list))
	for _, m := range list {
		out = append(out, Compaction{TaskType: str(m["taskType"]), Keyspace: str(m["keyspace"]), Table: str(m["columnfamily"]),
			Completed: number(m["completed"]), Total: number(m["total"])})
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.TaskType != b.TaskType {
			return a.TaskType < b.TaskType
		}
		return a.Keyspace+"."+a.Table < b.Keyspace+"."+b.Table
	})
	return out, true
}

// number decodes a JSON number or a string holding one (Jolokia may
// serialise longs as strings); 0 otherwise.
func number(raw json.RawMessage) int64 {
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		v, _ := n.Int64()
		return v
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		v, _ := strconv.ParseInt(s, 10, 64)
		return v
	}
	return 0
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
