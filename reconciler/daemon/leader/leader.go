package leader

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrLost: this replica lost the Lease while leading (it could not renew
// in time, or another took it). The caller exits so that the process
// restarts as a standby.
var ErrLost = errors.New("lost the leader Lease: exiting so that this replica restarts as a standby")

// Triggerer is what a relayed webhook pokes: git.Poller.Trigger.
type Triggerer interface{ Trigger() }

// Options configure an Election.
type Options struct {
	// Namespace and Name of the Lease (--leader-election-namespace,
	// --leader-election-id); the webhook relay uses <Name>-webhook.
	Namespace, Name string
	// Identity names this replica in the Lease (Identity()).
	Identity string
	// LeaseDuration is how long a standby waits before taking a Lease not
	// renewed; RenewDeadline how long the leader tries to renew before
	// giving up; RetryPeriod the time between two tries.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// OnLeading, when set, is told each change of leadership (metrics).
	OnLeading func(leading bool)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// DefaultOptions returns the Lease "ringops" with client-go's usual
// durations (15s, 10s, 2s); set Namespace and Identity.
func DefaultOptions() Options {
	return Options{Name: "ringops", LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// Election runs a function only while this replica holds the Lease.
type Election struct {
	opts     Options
	cs       kubernetes.Interface
	log      *slog.Logger
	isLeader atomic.Bool
}

// New returns an Election on the Lease opts.Namespace/opts.Name, through
// cs; it does not contact the API server.
func New(cs kubernetes.Interface, opts Options) (*Election, error) {
	switch {
	case opts.Namespace == "":
		return nil, errors.New("leader election: no namespace for the Lease")
	case opts.Name == "":
		return nil, errors.New("leader election: no name for the Lease")
	case opts.Identity == "":
		return nil, errors.New("leader election: no identity")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	log := opts.Logger.With("lease", opts.Namespace+"/"+opts.Name)
	return &Election{opts: opts, cs: cs, log: log}, nil
}

// Identity is $POD_NAME, else the host name with a random suffix.
func Identity() string {
	if p := os.Getenv("POD_NAME"); p != "" {
		return p
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "_" + hex.EncodeToString(b)
}

// Leading reports whether this replica holds the Lease (and acts).
func (e *Election) Leading() bool { return e.isLeader.Load() }

// Run campaigns until ctx ends. While leading, it runs act and triggers
// src on webhooks relayed by a standby. On ctx's end, act returns first
// (the step in flight finished), then the Lease is released so that the
// standby takes over at once. Losing the Lease otherwise returns ErrLost;
// act's error, but for its context's end, is returned as is.
func (e *Election) Run(ctx context.Context, act func(context.Context) error, src Triggerer) error {
	leCtx, release := context.WithCancel(context.WithoutCancel(ctx))
	defer release()
	var (
		actErr     error
		over, lost atomic.Bool // act returned; the Lease went while act ran
		wg         sync.WaitGroup
	)
	lead := func(lctx context.Context) {
		wg.Add(1)
		defer wg.Done()
		e.setLeader(true)
		e.log.Info("leading", "identity", e.opts.Identity)
		dctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lctx.Done():
				if ctx.Err() == nil && !over.Load() {
					lost.Store(true)
				}
				cancel()
			case <-dctx.Done():
			}
		}()
		go e.watchWebhooks(dctx, src)
		actErr = act(dctx)
		over.Store(true)
		cancel()
		release() // act is over: the Lease can go
	}
	le, err := e.elector(lead)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		if !e.Leading() {
			release()
		}
	}()
	le.Run(leCtx)
	wg.Wait()
	switch {
	case lost.Load():
		return ErrLost
	case actErr != nil && !errors.Is(actErr, context.Canceled):
		return actErr
	}
	return nil
}

// elector is client-go's leader elector on the Lease, calling lead when
// this replica takes it.
func (e *Election) elector(lead func(context.Context)) (*leaderelection.LeaderElector, error) {
	lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Name: e.opts.Name, Namespace: e.opts.Namespace},
		Client: e.cs.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: e.opts.Identity}}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: e.opts.Name, ReleaseOnCancel: true,
		LeaseDuration: e.opts.LeaseDuration, RenewDeadline: e.opts.RenewDeadline, RetryPeriod: e.opts.RetryPeriod,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: lead,
			OnStoppedLeading: func() { e.setLeader(false) },
			OnNewLeader: func(id string) {
				if id != e.opts.Identity {
					e.log.Info("standing by", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("leader election on %s/%s: %w", e.opts.Namespace, e.opts.Name, err)
	}
	return le, nil
}

func (e *Election) setLeader(v bool) {
	e.isLeader.Store(v)
	if e.opts.OnLeading != nil {
		e.opts.OnLeading(v)
	}
}
