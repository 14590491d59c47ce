package plan

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRegionsDone: a region is done (its commit status may say success)
// only when nothing is left to do in it and the ring is healthy.
func TestRegionsDone(t *testing.T) {
	for dir, want := range map[string]map[string]bool{
		"converged":                            {"eu-west": true, "us-east": true},
		"second-dc-first-node":                 {"eu-west": true, "us-east": false},  // the seed region is done while dc2 grows
		"template-seed-dc-first":               {"eu-west": true, "us-east": false},  // dc1 rolled, dc2 rolls now
		"seed-list-lazy":                       {"eu-west": true, "us-east": true},   // a live seed list that names nodes up is done
		"seed-list-forced-roll":                {"eu-west": false},                   // a rack whose seeds left is not
		"seed-list-restart":                    {"eu-west": false, "us-east": true},  // a staged template is not done
		"dc-removed-prune":                     {"eu-west": true},                    // steps in a removed region's context do not count
		"second-dc-waits-for-first":            {"eu-west": false, "us-east": false}, // a wait on eu-west; us-east not grown
		"ring-unhealthy":                       {"eu-west": false},
		"health-timeout":                       {"eu-west": false},
		"controller-behind":                    {"eu-west": false},
		"settling":                             {"eu-west": false},
		"paused":                               {"eu-west": false},
		"region-unreachable-applies-elsewhere": {"eu-west": false, "us-east": false},
		"blocked-invalid-spec":                 nil,
	} {
		t.Run(dir, func(t *testing.T) {
			d, o := goldenInput(t, filepath.Join("testdata", "plan", dir))
			got := RegionsDone(d, o, Next(d, o))
			if want == nil {
				require.Empty(t, got)
				return
			}
			require.Equal(t, want, got)
		})
	}
}

// TestNoSettleMeansNoSettling: with spec.rollout.settle 0s a healthy ring
// opens the gate at once, even when its verdict is stamped after the
// observation's time (the ring is read after the lists).
func TestNoSettleMeansNoSettling(t *testing.T) {
	d, o := goldenInput(t, filepath.Join("testdata", "plan", "settling"))
	require.Equal(t, Settling, Next(d, o).Wait.Reason)
	d.Cluster.Spec.Rollout.Settle = "0s"
	o.Ring.Since = o.Now.Add(50 * time.Millisecond)
	p := Next(d, o)
	require.NotEqual(t, Settling, p.Wait.Reason, "%s", p)
	require.NotEmpty(t, p.Steps)
}
