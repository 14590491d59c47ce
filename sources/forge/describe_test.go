package forge_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/ringops/ringops/sources/forge"
)

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"eu-west: done", 140, "eu-west: done"},
		{"eu-west: done", 0, "eu-west: done"},
		{"abcdef", 6, "abcdef"},
		{"abcdefg", 6, "abcde…"},
		{"abc   defg", 6, "abc…"}, // no space before the ellipsis
		{"réplica ünïcode", 5, "répl…"},
	} {
		got := forge.Truncate(tc.in, tc.max)
		assert.Equal(t, tc.want, got, "Truncate(%q, %d)", tc.in, tc.max)
		if tc.max > 0 {
			assert.LessOrEqual(t, utf8.RuneCountInString(got), tc.max)
		}
	}
}

func TestCleanDescriptionMakesOneLine(t *testing.T) {
	got := forge.CleanDescription("  cluster.yaml:12:\n\tspec.datacenters[1]:\r\n  renaming\x00 dc2  ")
	assert.Equal(t, "cluster.yaml:12: spec.datacenters[1]: renaming dc2", got)
}

func TestFailureDescriptionKeepsTheCountWhenTruncated(t *testing.T) {
	one := errors.New("clusters/orders/cluster.yaml:12: spec.datacenters[1].name: renaming dc2 to dc3 is not allowed")
	two := errors.New("clusters/orders/cluster.yaml:20: spec.storage.size: shrinking is not allowed")
	assert.Equal(t, "failed", forge.FailureDescription(nil))
	assert.Equal(t, one.Error(), forge.FailureDescription([]error{nil, one}))
	d := forge.FailureDescription([]error{one, two, errors.New("third")})
	assert.True(t, strings.HasPrefix(forge.Truncate(d, 40), "3 errors, first: clusters/orders/"), d)
}

func TestSummary(t *testing.T) {
	const rev = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	eu, us, ap := forge.RegionContext("orders", "eu-west"), forge.RegionContext("orders", "us-east"), forge.RegionContext("orders", "ap-south")
	for _, tc := range []struct {
		name      string
		regions   []forge.Status
		wantState forge.State
		wantDesc  string
	}{
		{"nothing yet", nil, forge.StatePending, "0/0 regions done"},
		{"all done", []forge.Status{forge.Succeeded(rev, us, "done"), forge.Succeeded(rev, eu, "done")},
			forge.StateSuccess, "2/2 regions done"},
		{"in progress, listed in context order", []forge.Status{
			forge.Pending(rev, us, "waiting for eu-west"), forge.Succeeded(rev, ap, "done"), forge.Pending(rev, eu, "r2 scaling 2 -> 3")},
			forge.StatePending, "1/3 regions done; orders/eu-west: r2 scaling 2 -> 3; orders/us-east: waiting for eu-west"},
		{"a failure wins", []forge.Status{forge.Pending(rev, us, "waiting"), forge.Failed(rev, eu, fmt.Errorf("gate timed out"))},
			forge.StateFailure, "0/2 regions done; orders/eu-west: gate timed out; orders/us-east: waiting"},
		{"superseded", []forge.Status{forge.Superseded(rev, eu, "7638417db6d59f3c431d3e1f261cc637155684cd"), forge.Succeeded(rev, us, "done")},
			forge.StateCanceled, "1/2 regions done; orders/eu-west: superseded by 7638417db6d5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := forge.Summary(rev, tc.regions)
			assert.Equal(t, forge.Status{Revision: rev, Context: "ringops", State: tc.wantState, Description: tc.wantDesc}, got)
		})
	}
}

func TestStateNames(t *testing.T) {
	var names []string
	for _, s := range []forge.State{forge.StatePending, forge.StateSuccess, forge.StateFailure, forge.StateError, forge.StateCanceled, 0} {
		names = append(names, s.String())
	}
	assert.Equal(t, []string{"pending", "success", "failure", "error", "canceled", "State(0)"}, names)
	assert.False(t, forge.StatePending.Terminal())
	assert.True(t, forge.StateCanceled.Terminal())
}

func TestContextNames(t *testing.T) {
	assert.Equal(t, "ringops/orders/eu-west", forge.RegionContext("orders", "eu-west"))
	assert.Equal(t, "ringops/plan", forge.PlanContext)
	assert.Equal(t, "ringops", forge.SummaryContext)
}
