package reconciler

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/plan"
)

// Under a fence each step asks before it writes: the steps it lets
// through carry its term on what they apply (copies: the plan's objects
// stay as planned), each is done once; the first it refuses ends the
// plan with nothing written.
func TestExecuteAsksTheFenceBeforeEachStep(t *testing.T) {
	f := newFixture(t, Options{})
	lost := errors.New("lease ringops-shard-1: held by \"ringops-0\"")
	var asked, done int
	fence := func(context.Context) (string, func(), error) {
		asked++
		if asked > 2 {
			return "", nil, lost
		}
		return "ringops-1/4", func() { done++ }, nil
	}
	first := sts("orders", "")
	p := plan.Plan{Cluster: "orders", Steps: []plan.Step{
		{Action: plan.ApplyObjects, Context: "eu-west", Objects: []*unstructured.Unstructured{first}},
		{Action: plan.UpdateStatefulSet, Context: "eu-west", Target: plan.ObjectRef{Name: "orders-dc1-r1"},
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r1", "7")}},
		{Action: plan.UpdateStatefulSet, Context: "eu-west", Target: plan.ObjectRef{Name: "orders-dc1-r2"},
			Objects: []*unstructured.Unstructured{sts("orders-dc1-r2", "7")}},
	}}
	events, err := f.engine.Execute(WithFence(t.Context(), fence), p)
	require.ErrorIs(t, err, ErrFenced)
	require.ErrorIs(t, err, lost)
	assert.Equal(t, []string{"Apply eu-west orders term=ringops-1/4", "ApplyObject eu-west orders-dc1-r1 term=ringops-1/4 rv=7"}, f.kube.Calls())
	assert.Len(t, events, 4, "started and done for the two steps let through, nothing for the refused one")
	assert.Equal(t, 2, done, "done once per step let through")
	_, stamped := first.GetAnnotations()[contract.AnnotationShardTerm]
	assert.False(t, stamped, "the plan's own object was stamped")
}

// Without a fence nothing is stamped (one replica, `ringops apply`).
func TestExecuteWithoutAFenceStampsNothing(t *testing.T) {
	f := newFixture(t, Options{})
	_, err := f.engine.Execute(t.Context(), plan.Plan{Cluster: "orders", Steps: []plan.Step{
		{Action: plan.ApplyObjects, Context: "eu-west", Objects: []*unstructured.Unstructured{sts("orders", "")}}}})
	require.NoError(t, err)
	assert.Equal(t, []string{"Apply eu-west orders"}, f.kube.Calls())
}
