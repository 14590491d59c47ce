package realnodes

import (
	"testing"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
)

// world is the package's world of real Cassandra 5.0 nodes: three
// regions, one JVM per pod.
var world = harness.NewWorld("world of real nodes", "starts three control planes and real Cassandra JVMs", env.RealOptions)

func TestMain(m *testing.M) {
	harness.Main(m, world)
}

// realWorld is the package's world of real nodes, started by the first
// test that needs it. It is stopped by TestMain (kept on failure).
func realWorld(t *testing.T) *env.World {
	t.Helper()
	return world.Get(t)
}
