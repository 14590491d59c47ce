package daemon

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge"
)

// TestRegionStaysDoneForItsRevision: once a region's status of a
// revision said success, the ring unhealthy while another region grows
// does not turn it back to pending; work found later in the region itself
// (a cleanup owed once a node joined) does; so does a failure; a new
// revision starts afresh.
func TestRegionStaysDoneForItsRevision(t *testing.T) {
	const eu = "ringops/orders/eu-west"
	w := &worker{}
	steps := []struct {
		in        forge.Status
		stepsHere bool
		want      forge.Status
	}{
		{forge.Pending("aaa", eu, "eu-west: dc1/r1 scale 0 -> 1"), true, forge.Pending("aaa", eu, "eu-west: dc1/r1 scale 0 -> 1")},
		{forge.Succeeded("aaa", eu, "eu-west: 3 nodes UN, ring healthy at aaa"), false, forge.Succeeded("aaa", eu, "eu-west: 3 nodes UN, ring healthy at aaa")},
		{forge.Pending("aaa", eu, "queued behind us-east: in progress: dc2/r1 scale 0 -> 1"), false, forge.Succeeded("aaa", eu, "eu-west: 3 nodes UN, ring healthy at aaa")},
		{forge.Pending("aaa", eu, "eu-west: cleanup of dc1/r1-0"), true, forge.Pending("aaa", eu, "eu-west: cleanup of dc1/r1-0")},
		{forge.Succeeded("aaa", eu, "eu-west: 3 nodes UN, ring healthy at aaa"), false, forge.Succeeded("aaa", eu, "eu-west: 3 nodes UN, ring healthy at aaa")},
		{forge.Pending("bbb", eu, "picked up"), false, forge.Pending("bbb", eu, "picked up")},
		{forge.Succeeded("bbb", eu, "eu-west: 3 nodes UN, ring healthy at bbb"), false, forge.Succeeded("bbb", eu, "eu-west: 3 nodes UN, ring healthy at bbb")},
		{forge.Failed("bbb", eu, errors.New("eu-west: health timeout")), false, forge.Failed("bbb", eu, errors.New("eu-west: health timeout"))},
		{forge.Pending("bbb", eu, "eu-west: dc1/r1 scale 1 -> 2"), true, forge.Pending("bbb", eu, "eu-west: dc1/r1 scale 1 -> 2")},
	}
	for i, st := range steps {
		require.Equal(t, st.want, w.latch(st.in, st.stepsHere), "step %d: %s", i, st.in)
	}
}
