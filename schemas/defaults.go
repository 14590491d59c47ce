package schemas

import "time"

// Defaults of the optional fields.
const (
	DefaultNamespace              = "default"
	DefaultImagePullPolicy        = "IfNotPresent"
	DefaultNodesPerRack           = int32(1)
	DefaultSeedsPerDatacenter     = int32(3)
	DefaultJolokiaPort            = int32(8778)
	DefaultHealthTimeout          = 30 * time.Minute
	DefaultSettle                 = 10 * time.Second
	DefaultTerminationGracePeriod = int64(1800)
)

// The Jolokia agent ringops puts into the pods (spec.jolokia.agentImage).
const (
	// DefaultJolokiaAgentImage holds the Jolokia 2.6.0 JVM agent at
	// /jolokia/jolokia-agent.jar (built by images/jolokia-agent/Dockerfile):
	// the official cassandra image ships no agent.
	DefaultJolokiaAgentImage = "ghcr.io/ringops/jolokia-agent:2.6.0"
	// JolokiaAgentNone says that the Cassandra image runs the agent itself:
	// ringops injects none.
	JolokiaAgentNone = "none"
	// JolokiaCredentialsNone, as spec.jolokia.credentialsSecret, turns the
	// agents' authentication off.
	JolokiaCredentialsNone = "none"
	// DefaultJolokiaKeyAlgorithm is the algorithm of spec.jolokia.tls's key.
	DefaultJolokiaKeyAlgorithm = "RSA"
)

// DefaultJolokiaPeers are who may reach the agent port when
// spec.jolokia.networkPolicy.from is empty: the pods of the ringops chart
// (label app.kubernetes.io/name=ringops) in the namespace ringops.
func DefaultJolokiaPeers() []NetworkPeer {
	return []NetworkPeer{{
		NamespaceSelector: map[string]string{"kubernetes.io/metadata.name": "ringops"},
		PodSelector:       map[string]string{"app.kubernetes.io/name": "ringops"},
	}}
}

// Default fills every optional field left empty with its default, in place,
// so that the renderer and the planner never see an unset value. It is
// idempotent and never overrides a value the user wrote.
func (c *CassandraCluster) Default() {
	if c.Metadata.Namespace == "" {
		c.Metadata.Namespace = DefaultNamespace
	}
	s := &c.Spec
	if s.CassandraClusterName == "" {
		s.CassandraClusterName = c.Metadata.Name
	}
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = DefaultImagePullPolicy
	}
	if s.NodesPerRack == nil {
		s.NodesPerRack = ptr(DefaultNodesPerRack)
	}
	if s.SeedsPerDatacenter == nil {
		s.SeedsPerDatacenter = ptr(DefaultSeedsPerDatacenter)
	}
	if s.Jolokia == nil {
		s.Jolokia = &Jolokia{}
	}
	if s.Jolokia.Port == nil {
		s.Jolokia.Port = ptr(DefaultJolokiaPort)
	}
	if s.Jolokia.AgentImage == "" {
		s.Jolokia.AgentImage = DefaultJolokiaAgentImage
	}
	s.Jolokia.defaultProtection()
	if s.SystemKeyspaces == "" {
		s.SystemKeyspaces = DefaultSystemKeyspaces
	}
	if t := s.CQL; t != nil && t.TLS != nil {
		for _, r := range []*KeyRef{t.TLS.CASecret, t.TLS.CAConfigMap} {
			if r != nil && r.Key == "" {
				r.Key = DefaultCAKey
			}
		}
	}
	if s.Rollout == nil {
		s.Rollout = &Rollout{}
	}
	if s.Rollout.HealthTimeout == "" {
		s.Rollout.HealthTimeout = DefaultHealthTimeout.String()
	}
	if s.Rollout.Settle == "" {
		s.Rollout.Settle = DefaultSettle.String()
	}
	c.defaultOperations() // replace (#16)
	if s.Pod == nil {
		s.Pod = &PodSettings{}
	}
	if s.Pod.TerminationGracePeriodSeconds == nil {
		s.Pod.TerminationGracePeriodSeconds = ptr(DefaultTerminationGracePeriod)
	}
	for i := range s.Datacenters {
		dc := &s.Datacenters[i]
		if dc.NodesPerRack == nil {
			dc.NodesPerRack = ptr(*s.NodesPerRack)
		}
		if dc.DNSDomain == "" {
			dc.DNSDomain = c.defaultDNSDomain()
		}
		if dc.Resources == nil && s.Resources != nil {
			dc.Resources = s.Resources
		}
		for j := range dc.Racks {
			if dc.Racks[j].Nodes == nil {
				dc.Racks[j].Nodes = ptr(*dc.NodesPerRack)
			}
		}
	}
	c.defaultReplicationFactors()
}

// defaultProtection fills the agent's TLS (key algorithm, the CA from the
// certificate's Secret) and NetworkPolicy (enabled, from where ringops
// runs by default).
func (j *Jolokia) defaultProtection() {
	if t := j.TLS; t != nil {
		if t.KeyAlgorithm == "" {
			t.KeyAlgorithm = DefaultJolokiaKeyAlgorithm
		}
		if t.CASecret == nil && t.CAConfigMap == nil && t.Secret != "" {
			t.CASecret = &KeyRef{Name: t.Secret}
		}
		for _, r := range []*KeyRef{t.CASecret, t.CAConfigMap} {
			if r != nil && r.Key == "" {
				r.Key = DefaultCAKey
			}
		}
	}
	if j.NetworkPolicy == nil {
		j.NetworkPolicy = &JolokiaNetworkPolicy{}
	}
	if j.NetworkPolicy.Enabled == nil {
		j.NetworkPolicy.Enabled = ptr(true)
	}
	if len(j.NetworkPolicy.From) == 0 {
		j.NetworkPolicy.From = DefaultJolokiaPeers()
	}
}

// defaultDNSDomain is the domain of the headless Service <name> in the
// cluster's namespace.
func (c *CassandraCluster) defaultDNSDomain() string {
	return c.Metadata.Name + "." + c.Metadata.Namespace + ".svc.cluster.local"
}

// StatefulSetName is the name of a rack's StatefulSet: <cluster>-<dc>-<rack>,
// as in CassKop. Its pods are <cluster>-<dc>-<rack>-<ordinal>.
func (c *CassandraCluster) StatefulSetName(dc, rack string) string {
	return c.Metadata.Name + "-" + dc + "-" + rack
}

// Contexts returns the kube contexts of the cluster in datacenter order
// (the seed datacenter's context first), each once.
func (c *CassandraCluster) Contexts() []string {
	var out []string
	seen := map[string]bool{}
	for _, dc := range c.Spec.Datacenters {
		if !seen[dc.Context] {
			seen[dc.Context] = true
			out = append(out, dc.Context)
		}
	}
	return out
}

// DatacenterNodes is the number of nodes a defaulted datacenter should have.
// Only a valid spec's count is meaningful: Validate bounds the counts, so
// that this int32 sum cannot overflow.
func (dc *Datacenter) DatacenterNodes() int32 {
	var n int32
	for _, r := range dc.Racks {
		if r.Nodes != nil {
			n += *r.Nodes
		}
	}
	return n
}

// Durations returns the rollout durations of a defaulted, valid spec.
func (r *Rollout) Durations() (healthTimeout, settle time.Duration) {
	healthTimeout, _ = time.ParseDuration(r.HealthTimeout)
	settle, _ = time.ParseDuration(r.Settle)
	return healthTimeout, settle
}

func ptr[T any](v T) *T { return &v }
