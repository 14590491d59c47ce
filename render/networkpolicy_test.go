package render

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/schemas"
)

// renderObjects renders the orders cluster with extra spec lines, in eu-west.
func renderObjects(t *testing.T, extra string) []*unstructured.Unstructured {
	t.Helper()
	spec := strings.Replace(ordersSpec, "  storage:", extra+"  storage:", 1)
	c, err := schemas.Parse("cluster.yaml", []byte(spec))
	require.NoError(t, err)
	m, err := New(DefaultOptions()).Render(context.Background(), regionFS(nil), "clusters/orders", c, "eu-west")
	require.NoError(t, err)
	return m.Objects
}

func findObject[T any](t *testing.T, objs []*unstructured.Unstructured, kind string) (*T, bool) {
	t.Helper()
	for _, u := range objs {
		if u.GetKind() == kind {
			out := new(T)
			require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, out))
			return out, true
		}
	}
	return nil, false
}

// ports of a NetworkPolicy rule, as numbers.
func rulePorts(r networkingv1.NetworkPolicyIngressRule) []int32 {
	var out []int32
	for _, p := range r.Ports {
		out = append(out, p.Port.IntVal)
	}
	return out
}

// TestNetworkPolicyOfTheAgentPort: by default the agent port admits only
// the ringops chart's pods; Cassandra's ports stay open to all.
func TestNetworkPolicyOfTheAgentPort(t *testing.T) {
	np, ok := findObject[networkingv1.NetworkPolicy](t, renderObjects(t, ""), "NetworkPolicy")
	require.True(t, ok, "a NetworkPolicy is rendered by default")
	assert.Equal(t, "orders-jolokia", np.Name)
	assert.Equal(t, map[string]string{contract.LabelCluster: "orders"}, np.Spec.PodSelector.MatchLabels)
	assert.Equal(t, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress}, np.Spec.PolicyTypes, "egress is left alone")
	require.Len(t, np.Spec.Ingress, 2)
	open, agent := np.Spec.Ingress[0], np.Spec.Ingress[1]
	assert.Equal(t, []int32{9042, 7000, 7001}, rulePorts(open))
	assert.Empty(t, open.From, "CQL and gossip from anywhere, as without a policy")
	assert.Equal(t, []int32{8778}, rulePorts(agent))
	require.Len(t, agent.From, 1)
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "ringops"}, agent.From[0].NamespaceSelector.MatchLabels)
	assert.Equal(t, map[string]string{"app.kubernetes.io/name": "ringops"}, agent.From[0].PodSelector.MatchLabels)
	for _, r := range np.Spec.Ingress {
		for _, p := range r.Ports {
			assert.Equal(t, corev1.ProtocolTCP, *p.Protocol)
		}
	}

	np, _ = findObject[networkingv1.NetworkPolicy](t, renderObjects(t, "  jolokia:\n    port: 8800\n    networkPolicy:\n      from: [{cidr: 10.8.0.0/16}, {podSelector: {app: ops}}]\n"), "NetworkPolicy")
	assert.Equal(t, []int32{8800}, rulePorts(np.Spec.Ingress[1]))
	assert.Equal(t, []networkingv1.NetworkPolicyPeer{
		{IPBlock: &networkingv1.IPBlock{CIDR: "10.8.0.0/16"}},
		{PodSelector: np.Spec.Ingress[1].From[1].PodSelector},
	}, np.Spec.Ingress[1].From)
	assert.Equal(t, map[string]string{"app": "ops"}, np.Spec.Ingress[1].From[1].PodSelector.MatchLabels)

	_, ok = findObject[networkingv1.NetworkPolicy](t, renderObjects(t, "  jolokia: {networkPolicy: {enabled: false}}\n"), "NetworkPolicy")
	assert.False(t, ok, "enabled: false")
}

// TestServiceHasNoAgentPort: nothing resolves the agent through the
// headless Service.
func TestServiceHasNoAgentPort(t *testing.T) {
	svc, ok := findObject[corev1.Service](t, renderObjects(t, ""), "Service")
	require.True(t, ok)
	var names []string
	for _, p := range svc.Spec.Ports {
		names = append(names, p.Name)
	}
	assert.Equal(t, []string{PortCQL, PortIntraNode, PortIntraNodeTLS, PortJMX}, names)
}

// TestRotateRestartsTheNodes: a new spec.jolokia.rotate changes the pod
// template, so the planner rolls the racks and the agents read the new
// password.
func TestRotateRestartsTheNodes(t *testing.T) {
	before := renderOne(t, "")
	after := renderOne(t, "  jolokia: {rotate: \"2026-05-01\"}\n")
	assert.NotContains(t, before.Spec.Template.Annotations, contract.AnnotationRotate)
	assert.Equal(t, "2026-05-01", after.Spec.Template.Annotations[contract.AnnotationRotate])
}

// TestComponentCannotMarkAKeptSecret: the label of the Secrets ringops
// keeps (never observed nor pruned) is refused on a Component's object.
func TestComponentCannotMarkAKeptSecret(t *testing.T) {
	c := ordersCluster(t)
	_, err := New(DefaultOptions()).Render(context.Background(), regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "resources: [secret.yaml]\n",
		"secret.yaml":        "apiVersion: v1\nkind: Secret\nmetadata: {name: orders-jolokia, labels: {ringops.dev/credentials: jolokia}}\n",
	}), "clusters/orders", c, "eu-west")
	require.ErrorIs(t, err, ErrForbidden)
	assert.Contains(t, err.Error(), contract.LabelCredentials)
}
