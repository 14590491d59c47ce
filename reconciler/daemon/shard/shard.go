package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/ringops/ringops/internal/broadcast"
)

// ErrNotHeld: the fence refused a write, since this replica does not hold
// the shard (any more), is giving it back, or could not renew its Lease
// within RenewDeadline. The step is not carried out; the replica stops
// the shard's workers.
var ErrNotHeld = errors.New("shard not held by this replica")

// Options configure a Set.
type Options struct {
	// Namespace of the Leases; Name their prefix (--leader-election-id):
	// shard i is the Lease <Name>-shard-<i>, its home replica announces
	// itself on <Name>-shard-<i>-home.
	Namespace, Name string
	// Shards is N (--shards), at least 1.
	Shards int
	// Identity names this replica in the Leases: $POD_NAME, whose
	// StatefulSet ordinal gives its home shard (Home).
	Identity string
	// LeaseDuration is how long a Lease must go unrenewed before another
	// replica takes it (and how long a replica waits, when it starts,
	// before taking shards that are not its home); RenewDeadline how long
	// a holder tries to renew before it gives the shard up, and the age of
	// the last renewal past which the fence refuses writes; RetryPeriod
	// the time between two tries.
	LeaseDuration, RenewDeadline, RetryPeriod time.Duration
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// DefaultOptions are client-go's usual durations (15s, 10s, 2s) on one
// shard named "ringops"; set Namespace, Identity and Shards.
func DefaultOptions() Options {
	return Options{Name: "ringops", Shards: 1, LeaseDuration: 15 * time.Second, RenewDeadline: 10 * time.Second, RetryPeriod: 2 * time.Second}
}

// Term is one holding of a shard: the holder and the Lease's
// leaseTransitions when it took it.
type Term struct {
	Holder      string
	Transitions int32
}

// String is "<holder>/<transitions>", the value of ringops.dev/shard-term.
func (t Term) String() string {
	if t.Holder == "" {
		return ""
	}
	return t.Holder + "/" + strconv.Itoa(int(t.Transitions))
}

// State is what a Set knows of one shard (the status page).
type State struct {
	Shard int `json:"shard"`
	// Lease is the Lease's name.
	Lease string `json:"lease"`
	// Holder is the holder last observed ("" when free or not read yet),
	// Term its term.
	Holder string `json:"holder,omitempty"`
	Term   string `json:"term,omitempty"`
	// Owned: this replica holds it and runs its clusters.
	Owned bool `json:"owned"`
	// Home: this replica is its home replica.
	Home bool `json:"home"`
}

// Set campaigns on the N shard Leases for one replica.
type Set struct {
	opts    Options
	cs      kubernetes.Interface
	log     *slog.Logger
	slots   []*slot
	start   time.Time // Run's start: the home replicas' head start counts from it
	changes *broadcast.Changes
}

// New returns a Set over cs; it does not contact the API server.
func New(cs kubernetes.Interface, opts Options) (*Set, error) {
	switch {
	case opts.Namespace == "":
		return nil, errors.New("shards: no namespace for the Leases (--leader-election-namespace or $POD_NAMESPACE)")
	case opts.Name == "":
		return nil, errors.New("shards: no name for the Leases (--leader-election-id)")
	case opts.Identity == "":
		return nil, errors.New("shards: no identity ($POD_NAME)")
	case opts.Shards < 1:
		return nil, fmt.Errorf("shards: --shards %d: must be 1 or more", opts.Shards)
	case opts.RetryPeriod <= 0 || opts.RenewDeadline <= opts.RetryPeriod || opts.LeaseDuration <= opts.RenewDeadline:
		return nil, fmt.Errorf("shards: durations must be 0 < retry period (%s) < renew deadline (%s) < lease duration (%s)",
			opts.RetryPeriod, opts.RenewDeadline, opts.LeaseDuration)
	case opts.LeaseDuration < time.Second:
		return nil, fmt.Errorf("shards: lease duration %s: a Lease counts whole seconds, give 1s or more", opts.LeaseDuration)
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	s := &Set{opts: opts, cs: cs, log: opts.Logger.With("identity", opts.Identity), changes: broadcast.New()}
	home, hasHome := Home(opts.Identity, opts.Shards)
	for i := range opts.Shards {
		s.slots = append(s.slots, newSlot(s, i, hasHome && home == i))
	}
	return s, nil
}

// Count is N.
func (s *Set) Count() int { return len(s.slots) }

// Identity names this replica in the Leases.
func (s *Set) Identity() string { return s.opts.Identity }

// Owns reports whether this replica holds shard i and runs its clusters
// (false while it gives the shard back).
func (s *Set) Owns(i int) bool {
	if i < 0 || i >= len(s.slots) {
		return false
	}
	return s.slots[i].owns()
}

// Changed returns a channel closed at the next change of what Owns says.
func (s *Set) Changed() <-chan struct{} { return s.changes.Changed() }

// Fence lets one step of shard i write: it returns the term to stamp on
// what the step writes, and done, to call once the step is over (a shard
// given back is released only after its steps in flight). It refuses,
// with ErrNotHeld, unless this replica holds the shard, is not giving it
// back, and renewed its Lease within RenewDeadline.
func (s *Set) Fence(_ context.Context, i int) (string, func(), error) {
	if i < 0 || i >= len(s.slots) {
		return "", nil, fmt.Errorf("shard %d of %d: %w", i, len(s.slots), ErrNotHeld)
	}
	return s.slots[i].fence(time.Now())
}

// States returns what the Set knows of every shard, by shard.
func (s *Set) States() []State {
	out := make([]State, len(s.slots))
	for i, sl := range s.slots {
		out[i] = sl.state()
	}
	return out
}

// Run campaigns on every shard until ctx ends; then it gives every held
// shard back (after its steps in flight) and releases its Lease. Cancel
// ctx only once the daemon stopped, so that the release comes after its
// last step.
func (s *Set) Run(ctx context.Context) {
	s.start = time.Now()
	var wg sync.WaitGroup
	for _, sl := range s.slots {
		wg.Add(2)
		go func() { defer wg.Done(); sl.campaign(ctx) }()
		go func() { defer wg.Done(); sl.followHome(ctx) }()
	}
	wg.Wait()
}
