package shard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/reconciler/daemon/shard"
	"github.com/ringops/ringops/test/env/controlplane"
	"github.com/ringops/ringops/test/env/loopback"
)

// Short durations: a Lease expires 2s after its last renewal.
const (
	leaseDuration = 2 * time.Second
	renewDeadline = time.Second
	retryPeriod   = 200 * time.Millisecond
	namespace     = "default"
)

// apiServer starts a real control plane for the test.
func apiServer(t *testing.T) *rest.Config {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	b, err := loopback.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Release() })
	cp, err := controlplane.Start(t.Context(), controlplane.Options{Name: "shards", Dir: t.TempDir(), Address: fmt.Sprintf("127.%d.0.1", b.B)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	return cp.RESTConfig()
}

// replica is one Set with its own connection to the API server, which
// kill cuts as SIGKILL would: no renewal, no release, ever again.
type replica struct {
	set  *shard.Set
	dead atomic.Bool
	stop context.CancelFunc
	done chan struct{}
}

type cut struct {
	rt   http.RoundTripper
	dead *atomic.Bool
}

func (c cut) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.dead.Load() {
		return nil, errors.New("replica killed")
	}
	return c.rt.RoundTrip(r)
}

func startReplica(t *testing.T, cfg *rest.Config, identity string, shards int) *replica {
	t.Helper()
	r := &replica{done: make(chan struct{})}
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return cut{rt: rt, dead: &r.dead} })
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	o := shard.DefaultOptions()
	o.Namespace, o.Name, o.Identity, o.Shards = namespace, "ringops", identity, shards
	o.LeaseDuration, o.RenewDeadline, o.RetryPeriod = leaseDuration, renewDeadline, retryPeriod
	o.Logger = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	if r.set, err = shard.New(cs, o); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	r.stop = stop
	go func() { defer close(r.done); r.set.Run(ctx) }()
	t.Cleanup(func() { stop(); <-r.done })
	return r
}

func (r *replica) kill() { r.dead.Store(true) }

// owned lists the shards each replica owns.
func owned(rs []*replica) string {
	var s string
	for _, r := range rs {
		s += fmt.Sprintf(" %s:", r.set.Identity())
		for i := range r.set.Count() {
			if r.set.Owns(i) {
				s += fmt.Sprint(i)
			}
		}
	}
	return s
}

// sampler checks, every 10 ms until stopped, that no two replicas pass
// the fence of one shard at once and that no term of a shard's Lease
// ever has two holders (as the Leases themselves say).
type sampler struct {
	mu      sync.Mutex
	errs    []string
	samples int
	stop    chan struct{}
	done    chan struct{}
}

func startSampler(t *testing.T, cs kubernetes.Interface, shards int, replicas func() []*replica) *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	holders := map[string]string{} // "<lease>/<transitions>" -> holder
	go func() {
		defer close(s.done)
		for {
			select {
			case <-s.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			s.sample(cs, shards, replicas(), holders)
		}
	}()
	t.Cleanup(s.end)
	return s
}

func (s *sampler) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func (s *sampler) sample(cs kubernetes.Interface, shards int, rs []*replica, holders map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.samples++
	for i := range shards {
		var passed []string
		for _, r := range rs {
			if term, done, err := r.set.Fence(context.Background(), i); err == nil {
				passed = append(passed, term)
				done()
			}
		}
		if len(passed) > 1 {
			s.errs = append(s.errs, fmt.Sprintf("shard %d: the fences of %v let writes through at once", i, passed))
		}
	}
	leases, err := cs.CoordinationV1().Leases(namespace).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		return
	}
	for _, l := range leases.Items {
		if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.LeaseTransitions == nil {
			continue
		}
		key := fmt.Sprintf("%s/%d", l.Name, *l.Spec.LeaseTransitions)
		if prev, ok := holders[key]; ok && prev != *l.Spec.HolderIdentity {
			s.errs = append(s.errs, fmt.Sprintf("lease %s: term %d held by %s and by %s", l.Name, *l.Spec.LeaseTransitions, prev, *l.Spec.HolderIdentity))
		}
		holders[key] = *l.Spec.HolderIdentity
	}
}

func (s *sampler) check(t *testing.T) {
	t.Helper()
	s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range s.errs {
		t.Error(e)
	}
	t.Logf("%d samples of the fences and the Leases", s.samples)
}

// Three replicas of a StatefulSet on three shards: each holds its home
// shard. One is killed (no release): another takes its shard within
// about one LeaseDuration, and the dead one's fence refuses. When it
// comes back, the holder gives its shard back once the step in flight is
// done. At no time do two replicas pass one shard's fence, nor does a
// term have two holders.
func TestShardsMoveWhenAReplicaDiesAndComeHome(t *testing.T) {
	cfg := apiServer(t)
	cs := kubernetes.NewForConfigOrDie(cfg)
	var mu sync.Mutex
	rs := []*replica{startReplica(t, cfg, "ringops-0", 3), startReplica(t, cfg, "ringops-1", 3), startReplica(t, cfg, "ringops-2", 3)}
	all := func() []*replica { mu.Lock(); defer mu.Unlock(); return append([]*replica(nil), rs...) }
	s := startSampler(t, cs, 3, all)

	wait.Until(t, 3*leaseDuration, "each replica on its home shard", func() (bool, string) {
		return owned(rs) == " ringops-0:0 ringops-1:1 ringops-2:2", owned(rs)
	})

	killed := time.Now()
	rs[2].kill()
	var taker *replica
	wait.Until(t, 3*leaseDuration, "shard 2 taken over", func() (bool, string) {
		for _, r := range rs[:2] {
			if r.set.Owns(2) {
				taker = r
				return true, ""
			}
		}
		return false, owned(rs)
	})
	took := time.Since(killed)
	t.Logf("shard 2 taken over by %s %s after the kill (lease duration %s)", taker.set.Identity(), took.Round(time.Millisecond), leaseDuration)
	if limit := leaseDuration + 3*retryPeriod + 500*time.Millisecond; took > limit {
		t.Errorf("takeover took %s, want within the lease duration and a few retries (%s)", took, limit)
	}
	if _, _, err := rs[2].set.Fence(t.Context(), 2); !errors.Is(err, shard.ErrNotHeld) {
		t.Errorf("the killed replica's fence on its lost shard: %v, want %v", err, shard.ErrNotHeld)
	}

	// A step of shard 2 in flight on the taker; then ringops-2 comes back.
	term, stepDone, err := taker.set.Fence(t.Context(), 2)
	if err != nil {
		t.Fatalf("the taker's fence: %v", err)
	}
	rs[2].stop()
	<-rs[2].done
	back := startReplica(t, cfg, "ringops-2", 3)
	mu.Lock()
	rs = append(rs[:2], back)
	mu.Unlock()
	wait.Until(t, 3*leaseDuration, "the taker giving shard 2 back", func() (bool, string) {
		return !taker.set.Owns(2), owned(all())
	})
	time.Sleep(3 * retryPeriod)
	if back.set.Owns(2) {
		t.Fatal("shard 2 came home while the taker's step was in flight")
	}
	t.Logf("the taker's step in term %s ends", term)
	stepDone()
	wait.Until(t, 3*leaseDuration, "shard 2 home again", func() (bool, string) {
		return owned(all()) == " ringops-0:0 ringops-1:1 ringops-2:2", owned(all())
	})
	s.check(t)
}
