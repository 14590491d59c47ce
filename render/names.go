package render

import "github.com/ringops/ringops/schemas"

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

// AuthSettings are the cassandra.yaml settings of spec.cql.authentication
// Password (a spec's own cassandra-yaml values win): logins checked
// against system_auth.roles, permissions against GRANTs, roles managed by
// CREATE ROLE. The short class names are those every release since 2.2
// takes, 5.0's parameterized authenticator included.
var AuthSettings = map[string]string{
	"authenticator": "PasswordAuthenticator",
	"authorizer":    "CassandraAuthorizer",
	"role_manager":  "CassandraRoleManager",
}

// CQLRoleName is the CQL role ringops creates for itself, whose password
// CQLSecretName holds.
const CQLRoleName = "ringops"

// CQLSecretName is the Secret ringops keeps, in every region, with the
// credentials of its own CQL role when spec.cql.authentication is
// Password and spec.cql.credentialsSecret names none.
func CQLSecretName(cluster string) string { return cluster + "-cql" }

// CQLCredentials is the Secret (keys username and password) of the
// credentials ringops logs in with over CQL to a defaulted cluster, in
// every region: the one spec.cql.credentialsSecret names, else, with
// authentication Password, CQLSecretName, which ringops keeps (managed)
// and whose role it creates. "" when authentication is None.
func CQLCredentials(c *schemas.CassandraCluster) (secret string, managed bool) {
	if c.CQLAuthentication() != schemas.CQLAuthPassword {
		return "", false
	}
	if q := c.Spec.CQL; q != nil && q.CredentialsSecret != "" {
		return q.CredentialsSecret, false
	}
	return CQLSecretName(c.Metadata.Name), true
}

// ConfigMapName is the name of a cluster's configuration ConfigMap.
func ConfigMapName(cluster string) string { return cluster + "-config" }

// PodDisruptionBudgetName is the name of a datacenter's PodDisruptionBudget.
func PodDisruptionBudgetName(cluster, dc string) string { return cluster + "-" + dc }
