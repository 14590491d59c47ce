package jolokia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
)

// Operator reads views and invokes operations on nodes. *Client is the
// Jolokia operator; tests use fakes.
type Operator interface {
	ring.Reader
	Exec(ctx context.Context, n ring.Node, call Call) (json.RawMessage, error)
	Bulk(ctx context.Context, n ring.Node, reqs []Request) ([]Response, error)
}

// Errors of the node operations.
var (
	// ErrRingBusy: another node is joining, leaving, moving or down, so the
	// operation may not start.
	ErrRingBusy = errors.New("the ring is busy")
	// ErrDecommissionFailed: Cassandra refused or aborted the decommission.
	ErrDecommissionFailed = errors.New("decommission failed")
	// ErrResumeFailed: Cassandra refused to resume the bootstrap.
	ErrResumeFailed = errors.New("bootstrap resume failed")
	// ErrUpgradeFailed: Cassandra refused or aborted an upgradeSSTables.
	ErrUpgradeFailed = errors.New("upgradesstables failed")
	// ErrDecommissionInFlight: this process is already sending an operation
	// to a node of the same cluster.
	ErrDecommissionInFlight = errors.New("an operation is already being sent in this cluster")
)

// OperationOptions bound the node operations.
type OperationOptions struct {
	// ExecTimeout bounds the call that starts an operation. Cassandra's
	// decommission and upgradeSSTables answer only when they are done
	// (minutes to hours), so no answer within ExecTimeout is no failure:
	// the operation runs on, and the ring says how it goes. The call is
	// never held open longer: the Jolokia JVM agent serves one request at a
	// time by default, and a held call would starve every read of the node.
	ExecTimeout time.Duration
	// Force is Cassandra 4+'s force flag of decommission: decommission even
	// when the datacenter would hold fewer nodes than a keyspace's
	// replication factor. Leave it false: ringops checks the RF at
	// validation, and Cassandra then checks it too.
	Force bool
	// UpgradeJobs is the jobs argument of upgradeSSTables: sstables
	// rewritten at once (nodetool upgradesstables' default is 2).
	UpgradeJobs int
}

// DefaultOperationOptions: 10 s to start an operation, 2 upgrade jobs.
func DefaultOperationOptions() OperationOptions {
	return OperationOptions{ExecTimeout: 10 * time.Second, UpgradeJobs: 2}
}

func (o OperationOptions) withDefaults() OperationOptions {
	d := DefaultOperationOptions()
	if o.ExecTimeout <= 0 {
		o.ExecTimeout = d.ExecTimeout
	}
	if o.UpgradeJobs <= 0 {
		o.UpgradeJobs = d.UpgradeJobs
	}
	return o
}

// Operations starts the long operations of a rollout on nodes: decommission
// (with the retries each Cassandra version allows), bootstrap resume and
// upgradesstables, and reads their progress. Every operation is
// fire-and-forget: it checks the node, sends the operation with a short
// timeout and returns; the caller follows the operation from the ring (the
// node's OperationMode, the other nodes' views, ReadProgress). It sends at
// most one operation at a time per cluster.
type Operations struct {
	ops  Operator
	opts OperationOptions

	mu       sync.Mutex
	inFlight map[string]string // cluster -> pod
}

// NewOperations returns Operations over ops. Zero fields of opts take their
// defaults.
func NewOperations(ops Operator, opts OperationOptions) *Operations {
	return &Operations{ops: ops, opts: opts.withDefaults(), inFlight: map[string]string{}}
}

func (o *Operations) acquire(n ring.Node) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if pod, ok := o.inFlight[n.Cluster]; ok {
		return fmt.Errorf("%s: an operation is being sent to %s: %w", n.Pod, pod, ErrDecommissionInFlight)
	}
	o.inFlight[n.Cluster] = n.Pod
	return nil
}

func (o *Operations) release(n ring.Node) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.inFlight, n.Cluster)
}

// othersBusy refuses a view in which another node than n is joining,
// leaving, moving or down: no second range movement ever starts. A down
// endpoint counts only when it is a ring member (a host ID, as Assess's
// memberFlags): a real 5.0 node lists a decommissioned node in
// UnreachableNodes for three days once it is silent, and that node is in
// no one's way (seen on real nodes when a datacenter's last node was to
// leave after the others).
func othersBusy(n ring.Node, v *ring.View) error {
	self := ring.NormalizeEndpoint(n.IP)
	members := map[string]bool{}
	for ep := range v.HostIDs {
		members[ring.NormalizeEndpoint(ep)] = true
	}
	var busy []string
	for _, l := range []struct {
		what string
		eps  []string
	}{{"joining", v.Joining}, {"leaving", v.Leaving}, {"moving", v.Moving}, {"down", v.Unreachable}} {
		for _, ep := range l.eps {
			e := ring.NormalizeEndpoint(ep)
			if e == self || l.what == "down" && !members[e] {
				continue
			}
			busy = append(busy, ep+" "+l.what)
		}
	}
	if len(busy) > 0 {
		return fmt.Errorf("%w: %s", ErrRingBusy, strings.Join(busy, ", "))
	}
	return nil
}

// lostAnswer reports whether a call failed after it was sent without an
// answer (timeout, connection cut): the operation may well run, the ring
// tells.
func lostAnswer(err error) bool {
	return errors.Is(err, ErrTimeout) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET)
}
