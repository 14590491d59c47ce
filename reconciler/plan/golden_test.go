package plan

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/testkit/golden"
)

// TestGolden plans every case of testdata/plan and compares the plan, as
// describe renders it, with want.txt. Each case is planned twice, to check
// that the plan is deterministic and that planning leaves its inputs as
// they were.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "plan", "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs)
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			d, o := goldenInput(t, dir)
			before := snapshot(t, d, o)
			got := describe(Next(d, o))
			require.Equal(t, got, describe(Next(d, o)), "the plan is not deterministic")
			require.Equal(t, before, snapshot(t, d, o), "planning changed its inputs")
			golden.AssertString(t, filepath.Join(dir, "want.txt"), got)
		})
	}
}

func snapshot(t *testing.T, d *Desired, o *Observed) string {
	var objs []any
	for _, m := range d.Manifests {
		for _, u := range m.Objects {
			objs = append(objs, u.Object)
		}
	}
	for _, kc := range sortedKeys(o.Contexts) {
		if oc := o.Contexts[kc]; oc != nil {
			for _, u := range oc.Objects {
				objs = append(objs, u.Object)
			}
			objs = append(objs, oc.Pods, oc.PVCs)
		}
	}
	data, err := json.Marshal(objs)
	require.NoError(t, err)
	return string(data)
}
