package kube_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/testkit/wait"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
	"github.com/ringops/ringops/test/env"
)

// fixture is a local world with a Manager whose requests are counted.
type fixture struct {
	world   *env.World
	manager *kube.Manager
	counter *kube.Counter
}

// startWorld starts real control planes for regions (stopped by
// t.Cleanup) and a counted Manager over them.
func startWorld(t testing.TB, regions ...string) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("starts control planes")
	}
	w := env.Start(t, env.Options{Regions: regions, NodesPerRegion: 3})
	configs := map[string]*rest.Config{}
	for _, r := range w.Regions() {
		configs[r.Name] = r.Config
	}
	return newFixture(t, w, configs, 0)
}

// watchedFixture is a counted Manager that observes from its caches
// (ManagerOptions.Watch) over the same world, closed by t.Cleanup.
func watchedFixture(t testing.TB, f *fixture) *fixture {
	t.Helper()
	configs := map[string]*rest.Config{}
	for _, r := range f.world.Regions() {
		configs[r.Name] = r.Config
	}
	return newFixtureWith(t, f.world, configs, 0, true)
}

// newFixture builds a counted Manager over configs; requestTimeout 0 is
// the default.
func newFixture(t testing.TB, w *env.World, configs map[string]*rest.Config, requestTimeout time.Duration) *fixture {
	t.Helper()
	return newFixtureWith(t, w, configs, requestTimeout, false)
}

func newFixtureWith(t testing.TB, w *env.World, configs map[string]*rest.Config, requestTimeout time.Duration, watch bool) *fixture {
	t.Helper()
	clients, err := kube.NewClientsFromConfigs(configs)
	if err != nil {
		t.Fatal(err)
	}
	counter := kube.NewCounter()
	if clients, err = clients.WithCounter(counter); err != nil {
		t.Fatal(err)
	}
	opts := kube.DefaultManagerOptions()
	opts.WaitTimeout = time.Minute
	opts.RequestTimeout = requestTimeout
	opts.Watch = watch
	m, err := kube.NewManager(clients, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return &fixture{world: w, manager: m, counter: counter}
}

// exampleManifests renders clusters-example/clusters/orders.
func exampleManifests(t testing.TB) []*render.Manifests {
	t.Helper()
	dir, err := filepath.Abs("../../clusters-example/clusters/orders")
	if err != nil {
		t.Fatal(err)
	}
	c, err := schemas.Load(filepath.Join(dir, "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	ms, err := render.New(render.DefaultOptions()).RenderAll(t.Context(), os.DirFS(dir), ".", c)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// object parses one YAML object.
func object(t testing.TB, doc string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(doc), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

// eventually waits for cond (wait.Until): the controllers' work.
func eventually(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	wait.Until(t, timeout, what, func() (bool, string) { return cond(t.Context()) })
}

func actions(results []kube.Result) map[string]string {
	out := map[string]string{}
	for _, r := range results {
		out[r.Ref.String()] = r.Action.String()
	}
	return out
}
