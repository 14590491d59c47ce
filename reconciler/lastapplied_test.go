package reconciler

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// recordedConfigMap is the ConfigMap orders-config as the clusters hold
// it, with record as its last-applied annotation.
func recordedConfigMap(record string) *kube.Observation {
	u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}
	u.SetNamespace("cassandra")
	u.SetName(render.ConfigMapName("orders"))
	u.SetLabels(map[string]string{contract.LabelCluster: "orders"})
	u.SetAnnotations(map[string]string{contract.AnnotationLastApplied: record})
	return &kube.Observation{Objects: []*unstructured.Unstructured{u}}
}

// TestPrepareValidatesAgainstTheRecordedSpec: with no previous spec given
// (a restarted daemon, `ringops apply` without --previous), the change is
// validated against what the clusters recorded.
func TestPrepareValidatesAgainstTheRecordedSpec(t *testing.T) {
	src := exampleSource(t)
	old := *src.Cluster
	old.Spec.Datacenters = append([]schemas.Datacenter(nil), src.Cluster.Spec.Datacenters...)
	old.Spec.Datacenters[1].Name = "dc9"

	f := newFixture(t, Options{})
	f.kube.contexts["eu-west"] = &kube.Observation{Err: errors.New("connection refused")} // unreadable: skipped
	f.kube.contexts["us-east"] = recordedConfigMap(schemas.EncodeLastApplied(&old))
	tg := f.engine.Prepare(t.Context(), src)
	require.Error(t, tg.Desired.Invalid)
	assert.Contains(t, tg.Desired.Invalid.Error(), "looks like datacenter dc9 was renamed to dc2")

	f = newFixture(t, Options{})
	f.kube.contexts["us-east"] = recordedConfigMap(schemas.EncodeLastApplied(src.Cluster))
	tg = f.engine.Prepare(t.Context(), src)
	require.NoError(t, tg.Desired.Invalid, "the same spec again")

	f = newFixture(t, Options{})
	f.kube.contexts["ap-south"] = recordedConfigMap("{not json")
	tg = f.engine.Prepare(t.Context(), src)
	require.ErrorIs(t, tg.Desired.Invalid, schemas.ErrLastApplied)
	assert.Contains(t, tg.Desired.Invalid.Error(), "cluster orders: the spec last applied: context ap-south: configmap cassandra/orders-config: annotation ringops.dev/last-applied:")
}
