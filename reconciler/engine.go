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
	"github.com/ringops/ringops/reconciler/ring/jolokia"
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
	// #20: adoption of what CassKop made
	AdoptStatefulSet(ctx context.Context, kctx string, obj *unstructured.Unstructured) (kube.Result, error)
	DeleteCassKopObject(ctx context.Context, kctx string, target kube.Ref) (kube.Result, error)
}

var _ Kube = (*kube.Manager)(nil)

// NodeOperations start the long operations of the plan's steps on nodes
// and read their progress: *jolokia.Operations. Each operation returns once
// it is sent (fire-and-forget); the planner follows it from the ring.
type NodeOperations interface {
	Decommission(ctx context.Context, n ring.Node) error
	ResumeBootstrap(ctx context.Context, n ring.Node) error
	UpgradeSSTables(ctx context.Context, n ring.Node) error
	// ForceDecommission and Rebuild are the #15 operations
	// (jolokia.Operations); done: Cassandra answered in time that it finished.
	ForceDecommission(ctx context.Context, n ring.Node) error
	Rebuild(ctx context.Context, n ring.Node, source string, keyspaces []string) (done bool, err error)
	// Cleanup is the one cleanup (#16 after growth: every keyspace; #15
	// after a lower factor: keyspaces), jobs tables at once; done as for
	// Rebuild.
	Cleanup(ctx context.Context, n ring.Node, jobs int, keyspaces []string) (done bool, err error)
	// replace (#16): removals of dead nodes, downtimes.
	RemoveNode(ctx context.Context, via ring.Node, hostID string) error
	Downtime(ctx context.Context, via ring.Node, address string) (time.Duration, error)
	jolokia.ProgressReader
}

var _ NodeOperations = (*jolokia.Operations)(nil)

// Clients are the engine's ready clients.
type Clients struct {
	// Kube reaches the API servers of every region.
	Kube Kube
	// Ring reads the nodes' views of the ring (a *jolokia.Client).
	Ring ring.Reader
	// Operations start decommissions, bootstrap resumes and
	// upgradesstables, and read their progress (a *jolokia.Operations over
	// the same Jolokia client).
	Operations NodeOperations
	// Schema reads and alters the keyspaces' replication over CQL (#15,
	// a *CQLSchema); nil: the engine manages no replication.
	Schema Schema
	// Renderer renders revisions (Prepare).
	Renderer *render.Renderer
	// Secrets, when set, keeps the Secret of the agents' credentials that
	// ringops owns, in a region before a step writes a StatefulSet there
	// (a *JolokiaSecrets).
	Secrets SecretKeeper
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
	// Snapshot bounds the ring reads.
	Snapshot ring.SnapshotOptions
	// SchemaAgreement bounds the wait for one schema version after an
	// ALTER KEYSPACE (the planner waits on a longer disagreement).
	SchemaAgreement time.Duration
}

// DefaultOptions: the ring read every 200 ms while waiting on it, the
// regions observed every 2 s (every 250 ms while a wait can only end on
// the Kubernetes side).
func DefaultOptions() Options {
	return Options{RingPollInterval: 200 * time.Millisecond, ObserveInterval: 2 * time.Second,
		FastObserveInterval: 250 * time.Millisecond, Snapshot: ring.DefaultSnapshotOptions(), SchemaAgreement: 30 * time.Second}
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
	if o.Snapshot.Concurrency <= 0 {
		o.Snapshot = d.Snapshot
	}
	if o.SchemaAgreement <= 0 {
		o.SchemaAgreement = d.SchemaAgreement
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
	nodeOps  NodeOperations
	schema   Schema
	renderer *render.Renderer
	secrets  SecretKeeper
	clock    Clock
	sink     func(Event)
	opts     Options

	mu       sync.Mutex
	clusters map[string]*clusterState
}

// clusterState is what the engine remembers of a cluster between calls.
type clusterState struct {
	target   *Target
	observed *plan.Observed
	verdict  verdict
	ringSig  string
	progress map[string]*nodeProgress // by pod: the progress of its long operation
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
	case c.Operations == nil:
		return nil, fmt.Errorf("reconciler: Clients.Operations: %w", ErrMissingClient)
	}
	if c.Renderer == nil {
		c.Renderer = render.New(render.DefaultOptions())
	}
	if c.Clock == nil {
		c.Clock = WallClock{}
	}
	return &Engine{kube: c.Kube, ring: c.Ring, nodeOps: c.Operations, schema: c.Schema, renderer: c.Renderer, secrets: c.Secrets, clock: c.Clock,
		sink: c.Events, opts: opts.withDefaults(), clusters: map[string]*clusterState{}}, nil
}

// Close releases the engine (and the CQL edge's sessions). It runs nothing
// in the background: the operations it started (a decommission, an
// upgradesstables, a rebuild) run on in Cassandra, and the planner follows
// them from the ring.
func (e *Engine) Close() {
	if c, ok := e.schema.(interface{ Close() }); ok {
		c.Close() // the CQL edge's sessions
	}
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
