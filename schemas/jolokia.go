package schemas

import (
	"fmt"
	"net"

	"k8s.io/apimachinery/pkg/util/validation"
)

// jolokiaTLS checks spec.jolokia.tls: the certificate's Secret, one CA,
// a DNS server name, the injected agent (bash cannot speak TLS: the
// readiness probe reads a plain-HTTP listener on the pod's loopback, one
// port above the agent's, which only the injected agent opens).
func (v *validator) jolokiaTLS(j *Jolokia) {
	t := j.TLS
	if t == nil {
		return
	}
	if t.Secret == "" {
		v.add("spec.jolokia.tls.secret", "required: the Secret (type kubernetes.io/tls) holding the agent's tls.crt and tls.key")
	} else {
		v.subdomain("spec.jolokia.tls.secret", t.Secret, "Secret name")
	}
	if t.CASecret != nil && t.CAConfigMap != nil {
		v.add("spec.jolokia.tls.caConfigMap", "set only one of caSecret and caConfigMap")
	}
	v.keyRef("spec.jolokia.tls.caSecret", t.CASecret, "Secret name")
	v.keyRef("spec.jolokia.tls.caConfigMap", t.CAConfigMap, "ConfigMap name")
	v.serverName("spec.jolokia.tls.serverName", t.ServerName)
	if j.AgentImage == JolokiaAgentNone {
		v.add("spec.jolokia.tls", "needs the agent ringops injects (agentImage is none): the readiness probe reads the node over a plain-HTTP listener on the pod's loopback that only this agent opens")
	}
	if j.Port != nil && *j.Port == 65535 {
		v.add("spec.jolokia.port", "65535 leaves no port for the readiness probe's loopback listener (the agent's port + 1) with tls")
	}
}

// MaxNetworkPeers bounds spec.jolokia.networkPolicy.from.
const MaxNetworkPeers = 32

// jolokiaNetworkPolicy checks the peers admitted to the agent port: each
// is pods by labels or an IP block.
func (v *validator) jolokiaNetworkPolicy(p *JolokiaNetworkPolicy) {
	if p == nil {
		return
	}
	if n := len(p.From); n > MaxNetworkPeers {
		v.add(fmt.Sprintf("spec.jolokia.networkPolicy.from[%d]", MaxNetworkPeers), "%d peers are too many: at most %d; use a wider CIDR or a label", n, MaxNetworkPeers)
		return
	}
	for i, peer := range p.From {
		field := fmt.Sprintf("spec.jolokia.networkPolicy.from[%d]", i)
		selectors := len(peer.NamespaceSelector) > 0 || len(peer.PodSelector) > 0
		switch {
		case peer.CIDR != "" && selectors:
			v.add(field, "an entry is either a cidr or selectors; split it in two")
		case peer.CIDR != "":
			if _, _, err := net.ParseCIDR(peer.CIDR); err != nil {
				v.add(field+".cidr", "%q is not a CIDR, e.g. 10.8.0.0/16", truncate(peer.CIDR, 80))
			}
		case !selectors:
			v.add(field, "empty: give namespaceSelector, podSelector (labels) or cidr")
		}
		v.matchLabels(field+".namespaceSelector", peer.NamespaceSelector)
		v.matchLabels(field+".podSelector", peer.PodSelector)
	}
}

func (v *validator) matchLabels(field string, labels map[string]string) {
	for _, k := range sortedKeys(labels) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			v.add(keyPath(field, k), "%q is not a label key: %s", truncate(k, 80), k8sMessage(msgs))
		}
		if msgs := validation.IsValidLabelValue(labels[k]); len(msgs) > 0 {
			v.add(keyPath(field, k), "%q is not a label value: %s", truncate(labels[k], 80), k8sMessage(msgs))
		}
	}
}
