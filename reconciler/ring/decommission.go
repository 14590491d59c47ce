package ring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Operator reads views and invokes operations on nodes. *Client is the
// Jolokia operator; tests use fakes.
type Operator interface {
	Reader
	Exec(ctx context.Context, n Node, call Call) (json.RawMessage, error)
}

// Errors of Decommission.
var (
	// ErrRingBusy: another node is joining, leaving, moving or down, so no
	// decommission may start.
	ErrRingBusy = errors.New("the ring is busy")
	// ErrDecommissionFailed: Cassandra refused or aborted the decommission,
	// or the node did not start leaving.
	ErrDecommissionFailed = errors.New("decommission failed")
	// ErrDecommissionInFlight: this process is already decommissioning a
	// node of the same cluster.
	ErrDecommissionInFlight = errors.New("a decommission is already in flight in this cluster")
	// ErrUnknownVersion: ReleaseVersion cannot be parsed, so the operation's
	// signature is unknown.
	ErrUnknownVersion = errors.New("unknown Cassandra release version")
)

// DecommissionOptions bound a decommission.
type DecommissionOptions struct {
	// PollInterval is the pause between two reads of the node's mode.
	PollInterval time.Duration
	// StartTimeout is how long the node may stay NORMAL after the operation
	// was sent before the decommission counts as not started.
	StartTimeout time.Duration
	// Timeout bounds the whole decommission, streaming included; it is also
	// the timeout of the exec call, which Cassandra answers when done.
	Timeout time.Duration
	// MaxReadFailures is how many consecutive failed reads of the node are
	// tolerated while it leaves.
	MaxReadFailures int
	// Force is Cassandra 4+'s force flag: decommission even when the
	// datacenter would hold fewer nodes than a keyspace's replication
	// factor. Leave it false: ringops checks the RF at validation, and
	// Cassandra then checks it too.
	Force bool
}

// DefaultDecommissionOptions polls every second, allows 30 s to start
// leaving, 12 h in all and 10 failed reads in a row.
func DefaultDecommissionOptions() DecommissionOptions {
	return DecommissionOptions{PollInterval: time.Second, StartTimeout: 30 * time.Second, Timeout: 12 * time.Hour, MaxReadFailures: 10}
}

func (o DecommissionOptions) withDefaults() DecommissionOptions {
	d := DefaultDecommissionOptions()
	if o.PollInterval <= 0 {
		o.PollInterval = d.PollInterval
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = d.StartTimeout
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.MaxReadFailures <= 0 {
		o.MaxReadFailures = d.MaxReadFailures
	}
	return o
}

// Decommissioner decommissions nodes, one at a time per cluster.
//
// Decommission is idempotent and re-derives where it is from the node: a
// DECOMMISSIONED node is done; a LEAVING node is taken over (its
// decommission was started before, perhaps by a previous process, perhaps
// failed): Cassandra 4+ is asked again, which retries a failed
// decommission and refuses while one runs, 3.x is only watched; a NORMAL
// node is decommissioned only if its view shows no other node joining,
// leaving, moving or down, so no second node ever starts leaving. The
// operation is sent at most once per call and never retried within it: a
// lost answer is resolved by watching OperationMode, NORMAL -> LEAVING ->
// DECOMMISSIONED. Back to NORMAL after LEAVING, still NORMAL after
// StartTimeout, DECOMMISSION_FAILED, or an exception from the operation is
// ErrDecommissionFailed; a caller may then call again.
type Decommissioner struct {
	ops  Operator
	opts DecommissionOptions

	mu       sync.Mutex
	inFlight map[string]string // cluster -> pod
}

// NewDecommissioner returns a Decommissioner using ops. Zero fields of opts
// take their defaults.
func NewDecommissioner(ops Operator, opts DecommissionOptions) *Decommissioner {
	return &Decommissioner{ops: ops, opts: opts.withDefaults(), inFlight: map[string]string{}}
}

// Decommission decommissions n and returns once it is DECOMMISSIONED.
func (d *Decommissioner) Decommission(ctx context.Context, n Node) error {
	if err := d.acquire(n); err != nil {
		return err
	}
	defer d.release(n)
	ctx, cancel := context.WithTimeout(ctx, d.opts.Timeout)
	defer cancel()
	v, err := d.ops.ReadView(ctx, n)
	if err != nil {
		return fmt.Errorf("decommission %s: %w", n.Pod, err)
	}
	switch v.Mode {
	case ModeDecommissioned:
		return nil
	case ModeLeaving:
		return d.resume(ctx, n, v)
	case ModeNormal:
	default:
		return fmt.Errorf("decommission %s: node is %s, not NORMAL: %w", n.Pod, v.Mode, ErrDecommissionFailed)
	}
	call, err := d.check(n, v)
	if err != nil {
		return fmt.Errorf("decommission %s: %w", n.Pod, err)
	}
	return d.run(ctx, n, call, false)
}

// resume takes over a node already LEAVING: Cassandra 4+ retries a failed
// decommission when asked again (and refuses with IllegalStateException
// while one runs); 3.x refuses, so it is only watched.
func (d *Decommissioner) resume(ctx context.Context, n Node, v *View) error {
	if major, err := ReleaseMajor(v.ReleaseVersion); err != nil || major < 4 {
		return d.watch(ctx, n, nil, watchState{leaving: true})
	}
	call, err := DecommissionCall(v.ReleaseVersion, d.opts.Force, d.opts.Timeout)
	if err != nil {
		return fmt.Errorf("decommission %s: %w", n.Pod, err)
	}
	return d.run(ctx, n, call, true)
}

// run sends the operation once and watches the node until it has left.
func (d *Decommissioner) run(ctx context.Context, n Node, call Call, resumed bool) error {
	execDone := make(chan error, 1)
	execCtx, stopExec := context.WithCancel(ctx)
	defer stopExec()
	go func() {
		_, err := d.ops.Exec(execCtx, n, call)
		execDone <- err
	}()
	return d.watch(ctx, n, execDone, watchState{leaving: resumed, resumed: resumed})
}

func (d *Decommissioner) acquire(n Node) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if pod, ok := d.inFlight[n.Cluster]; ok {
		return fmt.Errorf("decommission %s: %s is being decommissioned: %w", n.Pod, pod, ErrDecommissionInFlight)
	}
	d.inFlight[n.Cluster] = n.Pod
	return nil
}

func (d *Decommissioner) release(n Node) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.inFlight, n.Cluster)
}

// check refuses a busy ring and returns the operation for the release.
func (d *Decommissioner) check(n Node, v *View) (Call, error) {
	self := NormalizeEndpoint(n.IP)
	var busy []string
	for _, l := range []struct {
		what string
		eps  []string
	}{{"joining", v.Joining}, {"leaving", v.Leaving}, {"moving", v.Moving}, {"down", v.Unreachable}} {
		for _, ep := range l.eps {
			if NormalizeEndpoint(ep) != self {
				busy = append(busy, ep+" "+l.what)
			}
		}
	}
	if len(busy) > 0 {
		return Call{}, fmt.Errorf("%w: %s", ErrRingBusy, strings.Join(busy, ", "))
	}
	return DecommissionCall(v.ReleaseVersion, d.opts.Force, d.opts.Timeout)
}

// DecommissionCall is the decommission operation of a Cassandra release:
// decommission() before 4.0, decommission(boolean force) since.
func DecommissionCall(release string, force bool, timeout time.Duration) (Call, error) {
	major, err := ReleaseMajor(release)
	if err != nil {
		return Call{}, err
	}
	c := Call{MBean: StorageServiceMBean, Operation: "decommission", Timeout: timeout}
	if major >= 4 {
		c.Operation, c.Args = "decommission(boolean)", []any{force}
	}
	return c, nil
}

// ReleaseMajor is the major version of a ReleaseVersion such as "4.1.5",
// "3.11.17" or "5.0-rc1".
func ReleaseMajor(release string) (int, error) {
	head, _, _ := strings.Cut(strings.TrimSpace(release), ".")
	major, err := strconv.Atoi(head)
	if err != nil || major <= 0 {
		return 0, fmt.Errorf("%w: %q", ErrUnknownVersion, release)
	}
	return major, nil
}

// watchState is what watch knows: the node was seen LEAVING; the
// decommission was resumed on a LEAVING node.
type watchState struct {
	leaving, resumed bool
	start            time.Time
}

// javaIllegalState is what Cassandra 4+ throws when asked to decommission a
// node that is decommissioning already.
const javaIllegalState = "java.lang.IllegalStateException"

// watch reads the node's mode until it is DECOMMISSIONED. execDone, when
// not nil, delivers the outcome of the operation's call.
func (d *Decommissioner) watch(ctx context.Context, n Node, execDone <-chan error, st watchState) error {
	st.start = time.Now()
	failures := 0
	tick := time.NewTicker(d.opts.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("decommission %s: %w: %w", n.Pod, ErrTimeout, ctx.Err())
		case err := <-execDone:
			execDone = nil
			var re *RequestError
			if errors.As(err, &re) && !(st.resumed && re.ErrorType == javaIllegalState) {
				return fmt.Errorf("decommission %s: %w: %w", n.Pod, ErrDecommissionFailed, err)
			}
			continue // answered, in flight already, lost or timed out: the mode tells
		case <-tick.C:
		}
		v, err := d.ops.ReadView(ctx, n)
		if err != nil {
			if failures++; failures > d.opts.MaxReadFailures {
				return fmt.Errorf("decommission %s: %d reads failed in a row: %w", n.Pod, failures, err)
			}
			continue
		}
		failures = 0
		done, err := d.step(n, v.Mode, &st)
		if done || err != nil {
			return err
		}
	}
}

// step judges one read of the mode while watching.
func (d *Decommissioner) step(n Node, mode OperationMode, st *watchState) (bool, error) {
	switch mode {
	case ModeDecommissioned:
		return true, nil
	case ModeLeaving:
		st.leaving = true
		return false, nil
	case ModeNormal:
		if st.leaving {
			return true, fmt.Errorf("decommission %s: node went back to NORMAL: %w", n.Pod, ErrDecommissionFailed)
		}
		if time.Since(st.start) > d.opts.StartTimeout {
			return true, fmt.Errorf("decommission %s: still NORMAL after %s: %w", n.Pod, d.opts.StartTimeout, ErrDecommissionFailed)
		}
		return false, nil
	}
	return true, fmt.Errorf("decommission %s: node is %s: %w", n.Pod, mode, ErrDecommissionFailed)
}
