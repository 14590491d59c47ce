package replay_test

import (
	"strings"
	"testing"

	"github.com/ringops/ringops/reconciler/plan/replay"
)

// BenchmarkReplayImageBump50Nodes: what `ringops plan` pays to replay a
// rolling restart of 50 nodes (the base converged from nothing first).
func BenchmarkReplayImageBump50Nodes(b *testing.B) {
	spec := strings.Replace(base, "nodesPerRack: 2", "nodesPerRack: 10", 1)
	from, to := desired(b, spec), desired(b, strings.Replace(spec, "4.1.4", "4.1.5", 1))
	for b.Loop() {
		if _, err := replay.Replay(from, to, []string{"eu-west", "us-east"}, now, replay.Options{ManageKeyspaces: true}); err != nil {
			b.Fatal(err)
		}
	}
}
