package ring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Operator reads views and invokes operations on nodes. *Client is the
// Jolokia operator; tests use fakes.
type Operator interface {
	Reader
	Exec(ctx context.Context, n Node, call Call) (json.RawMessage, error)
	Bulk(ctx context.Context, n Node, reqs []Request) ([]Response, error)
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
	// ErrUnknownVersion: ReleaseVersion cannot be parsed, so the operation's
	// signature is unknown.
	ErrUnknownVersion = errors.New("unknown Cassandra release version")
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

func (o *Operations) acquire(n Node) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if pod, ok := o.inFlight[n.Cluster]; ok {
		return fmt.Errorf("%s: an operation is being sent to %s: %w", n.Pod, pod, ErrDecommissionInFlight)
	}
	o.inFlight[n.Cluster] = n.Pod
	return nil
}

func (o *Operations) release(n Node) {
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
func othersBusy(n Node, v *View) error {
	self := NormalizeEndpoint(n.IP)
	members := map[string]bool{}
	for ep := range v.HostIDs {
		members[NormalizeEndpoint(ep)] = true
	}
	var busy []string
	for _, l := range []struct {
		what string
		eps  []string
	}{{"joining", v.Joining}, {"leaving", v.Leaving}, {"moving", v.Moving}, {"down", v.Unreachable}} {
		for _, ep := range l.eps {
			e := NormalizeEndpoint(ep)
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

// ReleaseMajor is the major version of a ReleaseVersion such as "4.1.5",
// "3.11.17" or "5.0-rc1".
func ReleaseMajor(release string) (int, error) {
	major, _, err := ReleaseSeries(release)
	return major, err
}

// ReleaseSeries is the major and minor version of a ReleaseVersion: 4 and 1
// for "4.1.5", 3 and 11 for "3.11.17", 5 and 0 for "5.0-rc1". A missing
// minor is 0.
func ReleaseSeries(release string) (major, minor int, err error) {
	parts := strings.SplitN(strings.TrimSpace(release), ".", 3)
	major, err = strconv.Atoi(parts[0])
	if err != nil || major <= 0 {
		return 0, 0, fmt.Errorf("%w: %q", ErrUnknownVersion, release)
	}
	if len(parts) > 1 {
		digits := parts[1]
		if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			digits = digits[:i]
		}
		if minor, err = strconv.Atoi(digits); err != nil {
			return 0, 0, fmt.Errorf("%w: %q", ErrUnknownVersion, release)
		}
	}
	return major, minor, nil
}
