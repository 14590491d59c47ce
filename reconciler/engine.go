package reconciler

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// Kube is the engine's edge to the API servers: *kube.Manager.
type Kube interface {
	Observe(ctx context.Context, q kube.Query) map[string]*kube.Observation
	Apply(ctx context.Context, kctx string, objs ...*unstructured.Unstructured) ([]kube.Result, error)
	ApplyObject(ctx context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error)
	RecreateStatefulSet(ctx context.Context, kctx string, target kube.Ref, obj *unstructured.Unstructured) (kube.Result, error)
	DeleteStatefulSet(ctx context.Context, kctx string, target kube.Ref) (kube.Result, error)
	Prune(ctx context.Context, kctx string, target kube.Ref) (kube.Result, error)
	DeletePVC(ctx context.Context, kctx string, target kube.Ref) (kube.Result, error)
	ExpandPVC(ctx context.Context, kctx string, target kube.Ref, size string) (kube.Result, error)
	MarkPVCDecommissioned(ctx context.Context, kctx, namespace, name string, at time.Time) (kube.Result, error)
	DeletePod(ctx context.Context, kctx, namespace, name, uid string) (kube.Result, error)
}

var _ Kube = (*kube.Manager)(nil)

// Decommissioner decommissions a node and returns once it has left the
// ring: *ring.Decommissioner.
type Decommissioner interface {
	Decommission(ctx context.Context, n ring.Node) error
}

var _ Decommissioner = (*ring.Decommissioner)(nil)

// Clients are the engine's ready clients.
type Clients struct {
	// Kube reaches the API servers of every region.
	Kube Kube
	// Ring reads the nodes' views of the ring (a *ring.Client).
	Ring ring.Reader
	// Decommissioner runs decommissions (a *ring.Decommissioner over the
	// same Jolokia client).
	Decommissioner Decommissioner
	// Renderer renders revisions (Prepare).
	Renderer *render.Renderer
	// Clock stamps and paces; nil: WallClock.
	Clock Clock
	// Events, when set, receives every event as it happens (Step returns
	// them too). It must not block for long.
	Events func(Event)
}

// Options tune the engine. Zero fields take the DefaultOptions value.
type Options struct {
	// RingPollInterval is the period of the ring reads while a plan waits
	// on the ring: from "ring healthy" to the next step takes at most
	// about this long plus one observation. Jolokia reads are cheap.
	RingPollInterval time.Duration
	// ObserveInterval is the period of the observations (lists in every
	// region) while a wait can be followed on the ring alone, and while
	// nothing moves (converged, paused, blocked).
	ObserveInterval time.Duration
	// IdleInterval is the period of the observations while nothing is to
	// be done for now: converged, paused, outside the change windows,
	// blocked. It bounds how long drift goes uncorrected (and a window
	// opening unseen). Default: ObserveInterval.
	IdleInterval time.Duration
	// FastObserveInterval is the period of the observations while a wait
	// can only end on the Kubernetes side (a pod being created or becoming
	// Ready, a StatefulSet controller catching up): short-lived states.
	FastObserveInterval time.Duration
	// DecommissionStartTimeout bounds how long Execute waits for a node
	// it decommissions to leave NORMAL (the decommission itself runs on
	// in the background).
	DecommissionStartTimeout time.Duration
	// Snapshot bounds the ring reads.
	Snapshot ring.SnapshotOptions
}

// DefaultOptions: the ring read every 200 ms while waiting on it, the
// regions observed every 2 s (every 250 ms while a wait can only end on
// the Kubernetes side), 30 s for a decommission to start.
func DefaultOptions() Options {
	return Options{RingPollInterval: 200 * time.Millisecond, ObserveInterval: 2 * time.Second,
		FastObserveInterval: 250 * time.Millisecond, DecommissionStartTimeout: 30 * time.Second,
		Snapshot: ring.DefaultSnapshotOptions()}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.RingPollInterval <= 0 {
		o.RingPollInterval = d.RingPollInterval
	}
	if o.ObserveInterval <= 0 {
		o.ObserveInterval = d.ObserveInterval
	}
	if o.IdleInterval <= 0 {
		o.IdleInterval = o.ObserveInterval
	}
	if o.FastObserveInterval <= 0 {
		o.FastObserveInterval = d.FastObserveInterval
	}
	if o.DecommissionStartTimeout <= 0 {
		o.DecommissionStartTimeout = d.DecommissionStartTimeout
	}
	if o.Snapshot.Concurrency <= 0 {
		o.Snapshot = d.Snapshot
	}
	return o
}

// Engine observes, plans and executes rollouts, one step per call. It
// keeps no rollout state of its own beyond what makes it fast: the last
// observation of each cluster and when its ring verdict last changed
// (plan.Ring.Since). It is safe for concurrent use by several clusters.
type Engine struct {
	kube     Kube
	ring     ring.Reader
	decom    Decommissioner
	renderer *render.Renderer
	clock    Clock
	sink     func(Event)
	opts     Options

	bg     context.Context // background operations (decommissions)
	stopBg context.CancelFunc
	ops    sync.WaitGroup

	mu       sync.Mutex
	clusters map[string]*clusterState
}

// clusterState is what the engine remembers of a cluster between calls.
type clusterState struct {
	target   *Target
	observed *plan.Observed
	verdict  verdict
	ringSig  string
	decom    *decommission // the decommission this engine runs, if any
}

// verdict is the start of the current healthy or unhealthy streak.
type verdict struct {
	known   bool
	healthy bool
	since   time.Time
}

// ErrMissingClient: a required client was not given to New.
var ErrMissingClient = errors.New("missing client")

// New returns an engine over ready clients; Close stops its background
// operations.
func New(c Clients, opts Options) (*Engine, error) {
	switch {
	case c.Kube == nil:
		return nil, fmt.Errorf("reconciler: Clients.Kube: %w", ErrMissingClient)
	case c.Ring == nil:
		return nil, fmt.Errorf("reconciler: Clients.Ring: %w", ErrMissingClient)
	case c.Decommissioner == nil:
		return nil, fmt.Errorf("reconciler: Clients.Decommissioner: %w", ErrMissingClient)
	}
	if c.Renderer == nil {
		c.Renderer = render.New(render.DefaultOptions())
	}
	if c.Clock == nil {
		c.Clock = WallClock{}
	}
	bg, stop := context.WithCancel(context.Background())
	return &Engine{kube: c.Kube, ring: c.Ring, decom: c.Decommissioner, renderer: c.Renderer, clock: c.Clock,
		sink: c.Events, opts: opts.withDefaults(), bg: bg, stopBg: stop, clusters: map[string]*clusterState{}}, nil
}

// Close cancels the background operations (a decommission keeps running
// in Cassandra; the planner follows it) and waits for them to return.
func (e *Engine) Close() {
	e.stopBg()
	e.ops.Wait()
}

// Step is one turn of the loop: observe, plan, execute the plan's steps.
// It returns the plan, the events of its execution and the first error
// (the steps after it were not executed; call Step again to plan anew).
func (e *Engine) Step(ctx context.Context, t *Target) (plan.Plan, []Event, error) {
	o, err := e.Observe(ctx, t)
	if err != nil {
		return plan.Plan{}, nil, err
	}
	p := plan.Next(&t.Desired, o)
	events, err := e.Execute(ctx, p)
	return p, events, err
}

func (e *Engine) state(cluster string) *clusterState {
	e.mu.Lock()
	defer e.mu.Unlock()
	st, ok := e.clusters[cluster]
	if !ok {
		st = &clusterState{}
		e.clusters[cluster] = st
	}
	return st
}

func (e *Engine) emit(ev Event) Event {
	if e.sink != nil {
		e.sink(ev)
	}
	return ev
}
