package reconciler

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
)

var (
	worldOnce sync.Once
	world     *env.World
	worldErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if world != nil {
		if err := world.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "local world:", err)
		}
	}
	os.Exit(code)
}

// sharedWorld is one region (eu-west, three nodes) with the test
// Cassandra timings, shared by the package's tests and benchmarks.
func sharedWorld(tb testing.TB) *env.World {
	tb.Helper()
	if testing.Short() {
		tb.Skip("starts a control plane")
	}
	worldOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		world, worldErr = env.StartWorld(ctx, env.Options{Regions: []string{"eu-west"}, NodesPerRegion: 3})
	})
	if worldErr != nil {
		tb.Fatalf("local world: %v", worldErr)
	}
	return world
}

// live is an engine on a world, its API requests counted, wired as
// ringops is: the agents' Secret kept (JolokiaSecrets) and read back to
// reach them (SecretRouter).
type live struct {
	engine  *Engine
	counter *kube.Counter
	router  *SecretRouter

	mu     sync.Mutex
	events []Event
}

func newLive(tb testing.TB, w *env.World, opts Options) *live {
	tb.Helper()
	configs := map[string]*rest.Config{}
	for _, r := range w.Regions() {
		configs[r.Name] = r.Config
	}
	clients, err := kube.NewClientsFromConfigs(configs)
	require.NoError(tb, err)
	l := &live{counter: kube.NewCounter()}
	clients, err = clients.WithCounter(l.counter)
	require.NoError(tb, err)
	m, err := kube.NewManager(clients, kube.DefaultManagerOptions())
	require.NoError(tb, err)
	l.router = NewSecretRouter(clients, SecretRouterOptions{})
	jc := jolokia.NewClient(l.router, jolokia.DefaultOptions())
	secrets := NewJolokiaSecrets(clients, m, JolokiaSecretsOptions{Changed: l.router.Forget})
	l.engine, err = New(Clients{Kube: m, Ring: jc, Operations: jolokia.NewOperations(jc, jolokia.DefaultOperationOptions()),
		Secrets: secrets, Events: l.sink}, opts)
	require.NoError(tb, err)
	tb.Cleanup(l.engine.Close)
	return l
}

// prepare prepares src's target, its agents reached as its spec says.
func (l *live) prepare(ctx context.Context, src Source) *Target {
	l.router.SetCluster(src.Cluster)
	return l.engine.Prepare(ctx, src)
}

func (l *live) sink(ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *live) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// smallSource is testdata/small renamed name, with its rack list
// replaced by racks when given.
func smallSource(tb testing.TB, name string, racks ...schemas.Rack) Source {
	tb.Helper()
	dir := "testdata/small"
	c, err := schemas.Load(filepath.Join(dir, "cluster.yaml"))
	require.NoError(tb, err)
	c.Metadata.Name, c.Spec.CassandraClusterName = name, "" // its own ring
	for i := range c.Spec.Datacenters {
		c.Spec.Datacenters[i].DNSDomain = ""
	}
	if len(racks) > 0 {
		c.Spec.Datacenters[0].Racks = racks
	}
	c.Default()
	return Source{Name: name, FS: os.DirFS(dir), Dir: ".", Cluster: c}
}

// converge steps t until it has converged (at most limit, a bound on
// the simulated cluster, not a performance assertion).
func (l *live) converge(tb testing.TB, t *Target, limit time.Duration) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for {
		p, _, err := l.engine.Step(ctx, t)
		switch {
		case ctx.Err() != nil:
			tb.Fatalf("not converged after %s: %s", limit, p)
		case errors.Is(err, kube.ErrConflict):
			continue
		case err != nil:
			tb.Fatalf("step: %v", err)
		case p.Done():
			return
		case p.Failed():
			tb.Fatalf("rollout failed: %s", p)
		case len(p.Steps) > 0:
			continue
		}
		require.NoError(tb, l.engine.Wait(ctx, t, p))
	}
}

func TestEngineBootstrapsThenWritesNothing(t *testing.T) {
	w := sharedWorld(t)
	l := newLive(t, w, Options{})
	tg := l.prepare(t.Context(), smallSource(t, "small"))
	require.NoError(t, tg.Desired.Invalid)
	l.converge(t, tg, 3*time.Minute)

	var scales []string
	for _, ev := range l.Events() {
		if ev.Kind == StepDone && ev.Step.Action == plan.ScaleStatefulSet {
			scales = append(scales, fmt.Sprintf("%s %d -> %d", ev.Step.Target.Name, ev.Step.From, ev.Step.To))
		}
	}
	assert.Equal(t, []string{"small-dc1-r1 0 -> 1", "small-dc1-r2 0 -> 1"}, scales)

	before := l.counter.Total()
	p, events, err := l.engine.Step(t.Context(), tg)
	require.NoError(t, err)
	assert.True(t, p.Done(), "%s", p)
	require.Len(t, events, 1)
	assert.Equal(t, Waiting, events[0].Kind)
	spent := l.counter.Total().Sub(before)
	assert.Zero(t, spent.Writes(), "a converged cluster costs no write: %s", spent)
	assert.Zero(t, spent.DryRun, "nor a dry run: %s", spent)
	assert.Positive(t, spent.List, "it was observed: %s", spent)
}

// TestEngineDecommissionsThroughASerialAgent: the leaving node's Jolokia
// agent serves one request at a time (the JVM agent's default), so the
// node cannot be read while its decommission call is open, here for 35 s
// (longer than any read's timeout, and than the 30 s the engine used to
// wait for the node to leave NORMAL). The engine sends the decommission
// and goes on; the planner follows it from the other nodes' views until
// the node is gone, and the replica goes. No step fails.
func TestEngineDecommissionsThroughASerialAgent(t *testing.T) {
	w := sharedWorld(t)
	l := newLive(t, w, Options{})
	two := int32(2)
	one := int32(1)
	// Three racks: in two, Cassandra's token allocator refuses a second node.
	src := smallSource(t, "serial", schemas.Rack{Name: "r1", Nodes: &two}, schemas.Rack{Name: "r2", Nodes: &one}, schemas.Rack{Name: "r3", Nodes: &one})
	tg := l.prepare(t.Context(), src)
	require.NoError(t, tg.Desired.Invalid)
	l.converge(t, tg, 5*time.Minute)

	leaver := "serial-dc1-r1-1"
	w.Sim.SetPodFaults("cassandra", leaver, cassandra.Faults{SerialJolokia: true, DecommissionTime: 35 * time.Second})
	src = smallSource(t, "serial", schemas.Rack{Name: "r1", Nodes: &one}, schemas.Rack{Name: "r2", Nodes: &one}, schemas.Rack{Name: "r3", Nodes: &one})
	tg = l.prepare(t.Context(), src)
	require.NoError(t, tg.Desired.Invalid)
	l.converge(t, tg, 5*time.Minute)

	var steps []string
	for _, ev := range l.Events() {
		switch {
		case ev.Kind == StepFailed:
			t.Errorf("a step failed: %s", ev)
		case ev.Kind == StepDone && (ev.Step.Action == plan.Decommission || ev.Step.Action == plan.ScaleStatefulSet && ev.Step.To < ev.Step.From):
			steps = append(steps, fmt.Sprintf("%s %s", ev.Step.Action, ev.Step.Pod))
		}
	}
	assert.Equal(t, []string{"Decommission " + leaver, "ScaleStatefulSet " + leaver}, steps, "one decommission, then the replica goes")
	for _, st := range w.Sim.Ring("serial") {
		assert.NotEqual(t, leaver, st.Pod, "%s left the ring", leaver)
	}
}
