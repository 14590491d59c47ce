package main

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

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"

	"github.com/ringops/ringops/reconciler/kube"
)

// election runs the daemon only while this replica holds the Lease
// --leader-election-id, and relays webhooks between replicas through the
// Lease <id>-webhook (see charts/ringops/README.md).
type election struct {
	f        runFlags
	log      *slog.Logger
	cs       kubernetes.Interface
	ns, id   string
	identity string
	isLeader atomic.Bool
	onLead   func(bool)
}

func newElection(f runFlags, clients *kube.Clients, current string, log *slog.Logger) (*election, error) {
	kctx := f.leaderElectionCtx
	switch {
	case kctx != "":
	case f.inClusterContext != "":
		kctx = f.inClusterContext
	default:
		kctx = current
	}
	if kctx == "" {
		return nil, errors.New("--leader-elect: no context for the Lease: set --leader-election-context or --in-cluster-context")
	}
	cs, err := clients.Clientset(kctx)
	if err != nil {
		return nil, fmt.Errorf("--leader-elect: %w", err)
	}
	ns := f.leaderElectionNamespace
	if ns == "" {
		ns = os.Getenv("POD_NAMESPACE")
	}
	if ns == "" {
		return nil, errors.New("--leader-elect: --leader-election-namespace (or $POD_NAMESPACE) is required")
	}
	e := &election{f: f, log: log.With("lease", ns+"/"+f.leaderElectionID, "context", kctx), cs: cs, ns: ns,
		id: f.leaderElectionID, identity: identity()}
	return e, nil
}

// identity is $POD_NAME, else the host name with a random suffix.
func identity() string {
	if p := os.Getenv("POD_NAME"); p != "" {
		return p
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return host + "_" + hex.EncodeToString(b)
}

func (e *election) leading() bool { return e.isLeader.Load() }

// run campaigns until ctx ends. While leading, it runs act (the daemon)
// and polls on webhooks relayed by the standby. On ctx's end, act
// returns first (the step in flight finished), then the Lease is
// released so that the standby takes over at once. Losing the Lease
// otherwise is an error: the process exits to be restarted as a standby.
func (e *election) run(ctx context.Context, act func(context.Context) error, src interface{ Trigger() }) error {
	leCtx, release := context.WithCancel(context.WithoutCancel(ctx))
	defer release()
	var (
		actErr error
		lost   atomic.Bool
		wg     sync.WaitGroup
	)
	lock := &resourcelock.LeaseLock{LeaseMeta: metav1.ObjectMeta{Name: e.id, Namespace: e.ns},
		Client: e.cs.CoordinationV1(), LockConfig: resourcelock.ResourceLockConfig{Identity: e.identity}}
	le, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: lock, Name: e.id, ReleaseOnCancel: true,
		LeaseDuration: e.f.leaseDuration, RenewDeadline: e.f.renewDeadline, RetryPeriod: e.f.retryLE,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(lctx context.Context) {
				wg.Add(1)
				defer wg.Done()
				e.setLeader(true)
				e.log.Info("leading", "identity", e.identity)
				dctx, cancel := context.WithCancel(ctx)
				go func() {
					select {
					case <-lctx.Done():
						if ctx.Err() == nil {
							lost.Store(true)
						}
						cancel()
					case <-dctx.Done():
					}
				}()
				go e.watchWebhooks(dctx, src)
				actErr = act(dctx)
				cancel()
				release() // act is over: the Lease can go
			},
			OnStoppedLeading: func() { e.setLeader(false) },
			OnNewLeader: func(id string) {
				if id != e.identity {
					e.log.Info("standing by", "leader", id)
				}
			},
		},
	})
	if err != nil {
		return fmt.Errorf("--leader-elect: %w", err)
	}
	go func() {
		<-ctx.Done()
		if !e.leading() {
			release()
		}
	}()
	le.Run(leCtx)
	wg.Wait()
	switch {
	case lost.Load():
		return errors.New("lost the leader Lease: exiting so that this replica restarts as a standby")
	case actErr != nil && !errors.Is(actErr, context.Canceled):
		return actErr
	}
	return nil
}

func (e *election) setLeader(v bool) {
	e.isLeader.Store(v)
	if e.onLead != nil {
		e.onLead(v)
	}
}

func (e *election) webhookLease() string { return e.id + "-webhook" }

// forward records a verified push in the webhook Lease, for the leader
// to poll (a standby received it).
func (e *election) forward() {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.touchWebhookLease(ctx); err != nil {
			e.log.Warn("cannot relay the webhook to the leader; it will see the push at its next poll", "err", err)
		}
	}()
}

func (e *election) touchWebhookLease(ctx context.Context) error {
	leases := e.cs.CoordinationV1().Leases(e.ns)
	now := metav1.NewMicroTime(time.Now())
	holder := e.identity
	l, err := leases.Get(ctx, e.webhookLease(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: e.webhookLease(), Namespace: e.ns},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, RenewTime: &now}}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity, l.Spec.RenewTime = &holder, &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// watchWebhooks polls the source each time the webhook Lease's renewTime
// moves, until ctx ends.
func (e *election) watchWebhooks(ctx context.Context, src interface{ Trigger() }) {
	var last time.Time
	if l, err := e.cs.CoordinationV1().Leases(e.ns).Get(ctx, e.webhookLease(), metav1.GetOptions{}); err == nil && l.Spec.RenewTime != nil {
		last = l.Spec.RenewTime.Time
	}
	for ctx.Err() == nil {
		w, err := e.cs.CoordinationV1().Leases(e.ns).Watch(ctx, metav1.ListOptions{
			FieldSelector: fields.OneTermEqualSelector("metadata.name", e.webhookLease()).String()})
		if err != nil {
			e.log.Debug("webhook lease watch", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(5 * time.Second):
			}
			continue
		}
		for ev := range w.ResultChan() {
			l, ok := ev.Object.(*coordinationv1.Lease)
			if !ok || l.Spec.RenewTime == nil {
				continue
			}
			t := l.Spec.RenewTime.Time
			if t.After(last) {
				e.log.Info("webhook relayed by the standby: polling now")
				src.Trigger()
			}
			last = t
		}
		w.Stop()
	}
}
