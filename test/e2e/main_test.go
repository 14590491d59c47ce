package e2e

import (
	"testing"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
)

// world is the package's world: three regions, fast Cassandra timings.
var world = harness.NewWorld("world", "starts three control planes", env.DefaultOptions)

func TestMain(m *testing.M) {
	harness.Main(m, world)
}

// sharedWorld is the package's world, started by the first test that
// needs it. It is stopped by TestMain (and kept on failure).
func sharedWorld(t *testing.T) *env.World {
	t.Helper()
	return world.Get(t)
}
