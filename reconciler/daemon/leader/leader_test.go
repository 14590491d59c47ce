package leader_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/ringops/ringops/reconciler/daemon/leader"
)

const namespace = "ringops"

// guard bounds every wait: a hang fails the test, it never measures it.
const guard = 30 * time.Second

// triggers records each poll a relayed webhook asks for.
type triggers chan struct{}

func (t triggers) Trigger() { t <- struct{}{} }

// options are short durations (the Lease expires after 2 s) on one Lease.
func options(identity string) leader.Options {
	o := leader.DefaultOptions()
	o.Namespace, o.Identity = namespace, identity
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = 2*time.Second, time.Second, 100*time.Millisecond
	o.Logger = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	return o
}

func newElection(t *testing.T, cs *fake.Clientset, o leader.Options) *leader.Election {
	t.Helper()
	e, err := leader.New(cs, o)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// run runs e.Run in the background; its error arrives on the channel.
func run(ctx context.Context, e *leader.Election, act func(context.Context) error, src leader.Triggerer) <-chan error {
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx, act, src) }()
	return done
}

// actUntilDone signals started, then holds until its context ends.
func actUntilDone(started chan<- struct{}) func(context.Context) error {
	return func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		return ctx.Err()
	}
}

func wait[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(guard):
		t.Fatalf("%s: not within %s", what, guard)
		var zero T
		return zero
	}
}

func holder(t *testing.T, cs *fake.Clientset, name string) string {
	t.Helper()
	h, err := holderOf(cs, name)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// holderOf is the Lease's holder identity, "" when released.
func holderOf(cs *fake.Clientset, name string) (string, error) {
	l, err := cs.CoordinationV1().Leases(namespace).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", name, err)
	}
	if l.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *l.Spec.HolderIdentity, nil
}

// watchesOpened makes every watch of Leases signal once it is registered,
// so that a test touches the webhook Lease only when the leader watches it.
func watchesOpened(cs *fake.Clientset) <-chan struct{} {
	opened := make(chan struct{}, 16)
	cs.PrependWatchReactor("leases", func(a k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := a.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		w, err := cs.Tracker().Watch(a.GetResource(), a.GetNamespace(), opts)
		opened <- struct{}{}
		return true, w, err
	})
	return opened
}

// A standby relays a webhook by touching the webhook Lease; the leader's
// watch sees it and polls, once per relay. The standby never acts.
func TestRelayedWebhookMakesTheLeaderPoll(t *testing.T) {
	cs := fake.NewClientset()
	opened := watchesOpened(cs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	lead := newElection(t, cs, options("replica-a"))
	started, polls := make(chan struct{}), make(triggers, 4)
	leadDone := run(ctx, lead, actUntilDone(started), polls)
	wait(t, started, "replica-a leading")
	wait(t, opened, "replica-a watching the webhook Lease")

	standby := newElection(t, cs, options("replica-b"))
	var standbyActed atomic.Bool
	standbyDone := run(ctx, standby, func(context.Context) error { standbyActed.Store(true); return nil }, make(triggers, 1))

	for i := range 2 {
		if err := standby.Relay(ctx); err != nil {
			t.Fatalf("relay %d: %v", i, err)
		}
		wait(t, (<-chan struct{})(polls), "the leader's poll after a relay")
	}
	select {
	case <-polls:
		t.Error("a poll more than the relays")
	default:
	}
	if !lead.Leading() || standby.Leading() || standbyActed.Load() {
		t.Errorf("leading: a %v, b %v (b acted: %v); want a only", lead.Leading(), standby.Leading(), standbyActed.Load())
	}
	if got := holder(t, cs, "ringops-webhook"); got != "replica-b" {
		t.Errorf("webhook Lease held by %q, want the relaying replica-b", got)
	}
	cancel()
	for _, done := range []<-chan error{leadDone, standbyDone} {
		if err := wait(t, done, "Run's end after cancel"); err != nil {
			t.Errorf("Run after cancel: %v", err)
		}
	}
}

// On shutdown the leader finishes its act (the step in flight) while it
// still holds the Lease, then releases the Lease for the standby.
func TestCancelEndsTheActThenReleasesTheLease(t *testing.T) {
	cs := fake.NewClientset()
	var mu sync.Mutex
	var changes []bool
	o := options("replica-a")
	o.OnLeading = func(v bool) { mu.Lock(); changes = append(changes, v); mu.Unlock() }
	e := newElection(t, cs, o)

	ctx, cancel := context.WithCancel(context.Background())
	started, heldAtEnd := make(chan struct{}), make(chan string, 1)
	done := run(ctx, e, func(actx context.Context) error {
		close(started)
		<-actx.Done()
		h, err := holderOf(cs, "ringops")
		if err != nil {
			h = err.Error()
		}
		heldAtEnd <- h
		return actx.Err()
	}, make(triggers, 1))
	wait(t, started, "leading")
	if !e.Leading() {
		t.Error("acting without Leading()")
	}
	cancel()
	if got := wait(t, (<-chan string)(heldAtEnd), "the act's end"); got != "replica-a" {
		t.Errorf("when the act ended the Lease was held by %q, want replica-a still", got)
	}
	if err := wait(t, done, "Run's end"); err != nil {
		t.Errorf("Run after cancel: %v, want nil", err)
	}
	if got := holder(t, cs, "ringops"); got != "" {
		t.Errorf("after Run the Lease is held by %q, want released", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if e.Leading() || len(changes) != 2 || !changes[0] || changes[1] {
		t.Errorf("leading %v, changes %v; want false after [true false]", e.Leading(), changes)
	}
}

// A leader that cannot renew its Lease (the API server refuses) stops
// acting and Run says it lost the Lease.
func TestALeaderThatCannotRenewStops(t *testing.T) {
	cs := fake.NewClientset()
	var refuse atomic.Bool
	cs.PrependReactor("update", "leases", func(k8stesting.Action) (bool, runtime.Object, error) {
		if refuse.Load() {
			return true, nil, apierrors.NewServiceUnavailable("the API server is down")
		}
		return false, nil, nil
	})
	e := newElection(t, cs, options("replica-a"))
	started := make(chan struct{})
	done := run(context.Background(), e, actUntilDone(started), make(triggers, 1))
	wait(t, started, "leading")
	refuse.Store(true)
	if err := wait(t, done, "Run's end"); !errors.Is(err, leader.ErrLost) {
		t.Errorf("Run: %v, want %v", err, leader.ErrLost)
	}
	if e.Leading() {
		t.Error("still leading after losing the Lease")
	}
}

// act's own failure comes back from Run; the context's end does not.
func TestActErrorIsReturned(t *testing.T) {
	boom := errors.New("boom")
	e := newElection(t, fake.NewClientset(), options("replica-a"))
	err := wait(t, run(context.Background(), e, func(context.Context) error { return boom }, make(triggers, 1)), "Run's end")
	if !errors.Is(err, boom) {
		t.Errorf("Run: %v, want %v", err, boom)
	}
}

func TestNewRefusesAnIncompleteLease(t *testing.T) {
	for name, edit := range map[string]func(*leader.Options){
		"namespace": func(o *leader.Options) { o.Namespace = "" },
		"name":      func(o *leader.Options) { o.Name = "" },
		"identity":  func(o *leader.Options) { o.Identity = "" },
	} {
		o := options("replica-a")
		edit(&o)
		if _, err := leader.New(fake.NewClientset(), o); err == nil {
			t.Errorf("no %s: accepted", name)
		}
	}
}
