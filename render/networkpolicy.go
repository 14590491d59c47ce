package render

import (
	"maps"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ringops/ringops/internal/contract"
)

// networkPolicy is the NetworkPolicy <cluster>-jolokia of the cluster's
// pods: the agent port admits only spec.jolokia.networkPolicy.from (where
// ringops runs); Cassandra's ports stay open to every source, as they are
// without a policy (gossip 7000 and 7001 from the other nodes and
// regions, CQL 9042 from the clients). Every other port of the pods, JMX
// 7199 among them (Cassandra binds it to localhost by default), is closed
// to the network: a region's Component may add a NetworkPolicy to open
// one, policies add up. The loopback (the readiness probe's listener) and
// the kubelet's probes are not subject to policies. nil when disabled.
func (b *base) networkPolicy() *networkingv1.NetworkPolicy {
	j := b.c.Spec.Jolokia
	if j == nil || j.NetworkPolicy == nil || j.NetworkPolicy.Enabled == nil || !*j.NetworkPolicy.Enabled {
		return nil
	}
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: b.meta(NetworkPolicyName(b.c.Metadata.Name), b.clusterLabels()),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{contract.LabelCluster: b.c.Metadata.Name}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{
				{Ports: tcpPorts(CQLPort, IntraNodePort, IntraNodeTLSPort)},
				{Ports: tcpPorts(b.jolokiaPort()), From: b.agentPeers()},
			},
		},
	}
}

// agentPeers are spec.jolokia.networkPolicy.from as NetworkPolicy peers.
func (b *base) agentPeers() []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, p := range b.c.Spec.Jolokia.NetworkPolicy.From {
		var peer networkingv1.NetworkPolicyPeer
		if p.CIDR != "" {
			peer.IPBlock = &networkingv1.IPBlock{CIDR: p.CIDR}
		}
		if len(p.NamespaceSelector) > 0 {
			peer.NamespaceSelector = &metav1.LabelSelector{MatchLabels: maps.Clone(p.NamespaceSelector)}
		}
		if len(p.PodSelector) > 0 {
			peer.PodSelector = &metav1.LabelSelector{MatchLabels: maps.Clone(p.PodSelector)}
		}
		out = append(out, peer)
	}
	return out
}

func tcpPorts(ports ...int32) []networkingv1.NetworkPolicyPort {
	out := make([]networkingv1.NetworkPolicyPort, len(ports))
	for i, n := range ports {
		tcp, port := corev1.ProtocolTCP, intstr.FromInt32(n)
		out[i] = networkingv1.NetworkPolicyPort{Protocol: &tcp, Port: &port}
	}
	return out
}
