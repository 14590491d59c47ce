package render

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/schemas"
)

// TestLastAppliedAnnotation: the ConfigMap records the spec's change
// basis in every context, and a Component cannot change it.
func TestLastAppliedAnnotation(t *testing.T) {
	m, err := renderEUWest(t, regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "patches:\n- patch: |\n    {apiVersion: v1, kind: ConfigMap, metadata: {name: orders-config, namespace: cassandra, annotations: {ringops.dev/last-applied: forged}}}\n",
	}), Options{})
	require.NoError(t, err)
	cm := m.Objects[0]
	require.Equal(t, "ConfigMap", cm.GetKind())
	got := cm.GetAnnotations()[contract.AnnotationLastApplied]
	assert.Equal(t, schemas.EncodeLastApplied(ordersCluster(t)), got)
	prev, err := schemas.DecodeLastApplied(got)
	require.NoError(t, err)
	assert.Empty(t, schemas.ValidateChange(prev, ordersCluster(t)))
}

// TestAdoptAnnotation: with spec.adopt every rendered object says so, for
// the apply to take over objects ringops did not create; without it, none.
func TestAdoptAnnotation(t *testing.T) {
	m, err := renderEUWest(t, regionFS(nil), Options{})
	require.NoError(t, err)
	for _, u := range m.Objects {
		assert.NotContains(t, u.GetAnnotations(), contract.AnnotationAdopt, "%s", idOf(u))
	}
	c := ordersCluster(t)
	c.Spec.Adopt = true
	m, err = New(Options{}).Render(t.Context(), regionFS(nil), "clusters/orders", c, "eu-west")
	require.NoError(t, err)
	for _, u := range m.Objects {
		assert.Equal(t, "true", u.GetAnnotations()[contract.AnnotationAdopt], "%s", idOf(u))
	}
}
