package render

import "github.com/ringops/ringops/schemas"

// Labels and annotations of the pod contract (see the package comment).
const (
	LabelName       = "app.kubernetes.io/name"
	LabelInstance   = "app.kubernetes.io/instance"
	LabelManagedBy  = "app.kubernetes.io/managed-by"
	LabelCluster    = "ringops.dev/cluster"
	LabelDatacenter = "ringops.dev/datacenter"
	LabelRack       = "ringops.dev/rack"

	// ManagedBy is the value of LabelManagedBy on every rendered object.
	ManagedBy = "ringops"
	// AppName is the value of LabelName.
	AppName = "cassandra"

	// AnnotationSpecHash is on every rendered object: the SHA-256 (hex) of
	// the object's JSON (keys sorted) as rendered, without this annotation
	// (and without metadata.annotations if it was the only one).
	AnnotationSpecHash = "ringops.dev/spec-hash"
	// AnnotationConfigHash is on every pod template: the SHA-256 (hex) of
	// the data of the ConfigMap <cluster>-config, so a change rolls the racks.
	AnnotationConfigHash = "ringops.dev/config-hash"
	// AnnotationLastApplied is on the ConfigMap <cluster>-config in every
	// context: the spec's change basis (schemas.EncodeLastApplied), so
	// that the clusters remember what was rolled out and a change is
	// validated against it after a restart (schemas.ValidateChange). It is
	// applied with the revision's other non-disruptive objects, before any
	// node joins, leaves or restarts, and does not roll the racks (the
	// config hash covers the data only).
	AnnotationLastApplied = "ringops.dev/last-applied"
	// AnnotationAdopt is on every rendered object when spec.adopt is set:
	// the apply may take over a live object of the same name that ringops
	// did not create (without the managed-by label); without it, such an
	// object is refused (reconciler/kube ErrNotOwned).
	AnnotationAdopt = "ringops.dev/adopt"
	// AnnotationRotate is spec.jolokia.rotate: on pod templates, so that a
	// new token restarts every node (the agent reads its password at
	// start); on the Secret ringops keeps, the token its password was made
	// for.
	AnnotationRotate = "ringops.dev/jolokia-rotate"
	// LabelCredentials is on the Secrets ringops keeps itself (value: what
	// for, "jolokia"): they are never rendered, so never observed nor
	// pruned with the rendered objects (reconciler/kube skips them).
	LabelCredentials = "ringops.dev/credentials"
	// CredentialsJolokia is the value of LabelCredentials on the agents'
	// Secret.
	CredentialsJolokia = "jolokia"
)

// Container, port and volume names of the pod contract.
const (
	ContainerCassandra = "cassandra"
	PortCQL            = "cql"
	PortIntraNode      = "intra-node"
	PortIntraNodeTLS   = "intra-node-tls"
	PortJMX            = "jmx"
	PortJolokia        = "jolokia"
	VolumeData         = "data"
	// OverridesKey is the key of the ConfigMap <cluster>-config that holds
	// spec.config.cassandra-yaml, appended to cassandra.yaml at pod start.
	OverridesKey = "cassandra-overrides.yaml"
)

// Port numbers of the Cassandra container (Jolokia's comes from the spec).
const (
	CQLPort          = int32(9042)
	IntraNodePort    = int32(7000)
	IntraNodeTLSPort = int32(7001)
	JMXPort          = int32(7199)
)

// Paths inside the Cassandra container.
const (
	dataPath   = "/var/lib/cassandra"
	configPath = "/etc/cassandra"
)

// The Jolokia agent in the pod (see agentScript).
const (
	// jolokiaImageJar is where an agent image holds the jar.
	jolokiaImageJar = "/jolokia/jolokia-agent.jar"
	// jolokiaAgentDir is the emptyDir, in the init container and in
	// Cassandra's, holding the jar and its options.
	jolokiaAgentDir    = "/opt/jolokia"
	jolokiaAgentJar    = jolokiaAgentDir + "/jolokia-agent.jar"
	jolokiaAgentConfig = jolokiaAgentDir + "/jolokia-agent.properties"
	// jolokiaCredentialsDir is where the init container reads the
	// credentials Secret (keys username, password).
	jolokiaCredentialsDir = "/etc/ringops/jolokia-credentials"
	// jolokiaTLSDir is where the init container reads spec.jolokia.tls's
	// Secret (tls.crt, tls.key); it copies them to jolokiaServerCert and
	// jolokiaServerKey for the agent.
	jolokiaTLSDir     = "/etc/ringops/jolokia-tls"
	jolokiaServerCert = jolokiaAgentDir + "/tls.crt"
	jolokiaServerKey  = jolokiaAgentDir + "/tls.key"
	// jolokiaAgentThreads serve requests at once (executor=fixed): the
	// agent's default executor=single serves one at a time, so that a long
	// exec blocks every health read and readiness probe.
	jolokiaAgentThreads = 4
)

// JolokiaSecretName is the name of the Secret of the agents' credentials
// that ringops creates and keeps in every region of cluster when
// spec.jolokia.credentialsSecret is empty.
func JolokiaSecretName(cluster string) string { return cluster + "-jolokia" }

// NetworkPolicyName is the name of the NetworkPolicy of the agent port.
func NetworkPolicyName(cluster string) string { return cluster + "-jolokia" }

// JolokiaCredentials is the Secret (keys username and password) holding
// the agents' credentials of a defaulted cluster, in every region: the one
// spec.jolokia.credentialsSecret names, else JolokiaSecretName, which
// ringops keeps (managed). "" when authentication is off (none).
func JolokiaCredentials(c *schemas.CassandraCluster) (secret string, managed bool) {
	name := ""
	if j := c.Spec.Jolokia; j != nil {
		name = j.CredentialsSecret
	}
	switch name {
	case schemas.JolokiaCredentialsNone:
		return "", false
	case "":
		return JolokiaSecretName(c.Metadata.Name), true
	}
	return name, false
}

// ConfigMapName is the name of a cluster's configuration ConfigMap.
func ConfigMapName(cluster string) string { return cluster + "-config" }

// PodDisruptionBudgetName is the name of a datacenter's PodDisruptionBudget.
func PodDisruptionBudgetName(cluster, dc string) string { return cluster + "-" + dc }
