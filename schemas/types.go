package schemas

// APIVersion and Kind identify a cluster spec file.
const (
	APIVersion = "ringops.dev/v1alpha1"
	Kind       = "CassandraCluster"
)

// CassandraCluster is the content of clusters/<name>/cluster.yaml: one
// Cassandra cluster (one ring) spread over one or more kube contexts.
//
// The `doc` tags feed the JSON Schema (cassandracluster.schema.json), so that
// editors show them; keep them to one or two sentences a user can act on.
// The `max` tags are the upper bounds of bounds.go (maximum, or maxItems for
// a list), for editors too; Validate checks the bounds themselves.
type CassandraCluster struct {
	APIVersion string      `json:"apiVersion" enum:"ringops.dev/v1alpha1" doc:"Always ringops.dev/v1alpha1."`
	Kind       string      `json:"kind" enum:"CassandraCluster" doc:"Always CassandraCluster."`
	Metadata   ObjectMeta  `json:"metadata" doc:"Name and namespace of the cluster, the same in every region."`
	Spec       ClusterSpec `json:"spec" doc:"The desired cluster."`

	// src is where the cluster was parsed from (file name and the position
	// of every field), for error messages; nil when built in code.
	src *source
}

// ObjectMeta names the cluster. The name is the Cassandra cluster name unless
// spec.cassandraClusterName overrides it, and it prefixes every object name.
type ObjectMeta struct {
	Name        string            `json:"name" doc:"Cluster name: DNS-1035 label, prefix of every rendered object (StatefulSets are <name>-<dc>-<rack>). Cannot change once applied."`
	Namespace   string            `json:"namespace,omitempty" doc:"Namespace of the rendered objects in every region. Default: default. Cannot change once applied."`
	Labels      map[string]string `json:"labels,omitempty" doc:"Extra labels put on every rendered object and pod."`
	Annotations map[string]string `json:"annotations,omitempty" doc:"Extra annotations put on every rendered object."`
}

// ClusterSpec is the desired state of the whole ring.
type ClusterSpec struct {
	CassandraClusterName string            `json:"cassandraClusterName,omitempty" doc:"Cassandra's cluster_name, if it differs from metadata.name. Cannot change once applied."`
	Image                string            `json:"image" doc:"Cassandra container image, e.g. cassandra:4.1.5. Changing it rolls every rack, one at a time, seed datacenter first."`
	ImagePullPolicy      string            `json:"imagePullPolicy,omitempty" enum:"Always,IfNotPresent,Never" doc:"Image pull policy of the Cassandra container. Default: IfNotPresent."`
	NodesPerRack         *int32            `json:"nodesPerRack,omitempty" max:"1000" doc:"Cassandra nodes in each rack, unless a datacenter or rack says otherwise. Default: 1."`
	SeedsPerDatacenter   *int32            `json:"seedsPerDatacenter,omitempty" max:"16" doc:"At most this many seeds per datacenter: lowest ordinals, spread over racks. Default: 3."`
	Resources            *Resources        `json:"resources,omitempty" doc:"CPU and memory of the Cassandra container."`
	Storage              Storage           `json:"storage" doc:"The data volume of each node."`
	Config               *Config           `json:"config,omitempty" doc:"Cassandra configuration overrides."`
	Jolokia              *Jolokia          `json:"jolokia,omitempty" doc:"How ringops reads ring health from each node."`
	CQL                  *CQL              `json:"cql,omitempty" doc:"How ringops reaches the nodes over CQL (the native protocol) to read and alter the replication of the managed keyspaces."`
	Keyspaces            []Keyspace        `json:"keyspaces,omitempty" max:"64" doc:"Keyspaces whose replication ringops owns, per datacenter (NetworkTopologyStrategy). Keyspaces not listed are never touched, and a keyspace removed from the list is left as it is, never dropped."`
	SystemKeyspaces      string            `json:"systemKeyspaces,omitempty" enum:"Managed,Unmanaged" doc:"Managed: ringops also owns the replication of system_auth, system_distributed and system_traces, NetworkTopologyStrategy with min(3, nodes) in every datacenter, unless spec.keyspaces lists them. Unmanaged: only those listed in spec.keyspaces. Default: Managed."`
	Rollout              *Rollout          `json:"rollout,omitempty" doc:"How changes are rolled out."`
	Pod                  *PodSettings      `json:"pod,omitempty" doc:"Extra settings of every Cassandra pod."`
	Datacenters          []Datacenter      `json:"datacenters" max:"32" doc:"Datacenters in rollout order: the first is the seed datacenter, bootstrapped first; each lives in one kube context (region)."`
	Env                  map[string]string `json:"env,omitempty" doc:"Extra environment variables of the Cassandra container."`
	Adopt                bool              `json:"adopt,omitempty" doc:"Take over existing objects of the same names that ringops did not create (e.g. a cluster another operator ran): ringops applies over them and they become its own. Default: false, and such an object is refused."`
	// replace (#16): one-off operations, see operations.go.
	Operations []Operation `json:"operations,omitempty" max:"16" doc:"One-off operations on nodes that ringops never does on its own, each carried out once (recorded in the cluster, never repeated), for the commit that asks and reported on it. Remove an entry once it is done."`
}

// Datacenter is one Cassandra datacenter, living in one kube context.
type Datacenter struct {
	Name              string     `json:"name" doc:"Cassandra datacenter name (CASSANDRA_DC): DNS-1035 label. Cannot be renamed."`
	Context           string     `json:"context" doc:"Kube context (region) the datacenter runs in; its Component is regions/<context>/. Cannot change."`
	NodesPerRack      *int32     `json:"nodesPerRack,omitempty" max:"1000" doc:"Nodes in each rack of this datacenter, overriding spec.nodesPerRack. 0 scales the datacenter down (by decommission) before its removal."`
	ReplicationFactor *int32     `json:"replicationFactor,omitempty" doc:"Highest replication factor of any keyspace in this datacenter; ringops refuses to shrink the datacenter below it. With spec.keyspaces it is derived from them (leave it out, or write the same value); without, set it to 0 after ALTER KEYSPACE took the datacenter out of replication."`
	RebuildFrom       string     `json:"rebuildFrom,omitempty" doc:"Datacenter whose nodes stream their data to this one's when it is added to a running cluster (StorageService.rebuild, one node at a time, once the managed keyspaces replicate to it). Default: the seed datacenter (the first)."`
	DNSDomain         string     `json:"dnsDomain,omitempty" doc:"DNS domain under which the pods of this datacenter are reachable from every region (seed names are <pod>.<dnsDomain>). Default: <name>.<namespace>.svc.cluster.local."`
	Resources         *Resources `json:"resources,omitempty" doc:"Overrides spec.resources for this datacenter."`
	Racks             []Rack     `json:"racks" max:"32" doc:"Racks of the datacenter, in order; one StatefulSet each. Racks can be added, never removed, renamed or reordered."`
}

// Rack is one Cassandra rack: one StatefulSet <cluster>-<dc>-<rack>.
type Rack struct {
	Name  string `json:"name" doc:"Cassandra rack name (CASSANDRA_RACK): DNS-1035 label. Cannot be renamed."`
	Nodes *int32 `json:"nodes,omitempty" max:"1000" doc:"Nodes in this rack, overriding the datacenter's and the cluster's nodesPerRack."`
}

// Resources are the compute resources of the Cassandra container, as
// Kubernetes quantities (cpu: "2", memory: 8Gi).
type Resources struct {
	Requests map[string]string `json:"requests,omitempty" doc:"Requested resources, e.g. {cpu: \"2\", memory: 8Gi}."`
	Limits   map[string]string `json:"limits,omitempty" doc:"Resource limits; default: equal to the requests for memory."`
}

// Storage is the data volume (volumeClaimTemplate "data") of every node.
type Storage struct {
	Size                 string `json:"size" doc:"Size of each node's data volume, e.g. 100Gi. It can grow, never shrink."`
	StorageClassName     string `json:"storageClassName,omitempty" doc:"StorageClass of the data volumes; regions can patch it in their Component. Cannot change once applied."`
	DeleteOnDecommission bool   `json:"deleteOnDecommission,omitempty" doc:"Delete a node's PVC after it was decommissioned and removed. Default: false (the PVC is kept)."`
}

// Config holds Cassandra configuration overrides. They are rendered into a
// ConfigMap and their hash into the pod template, so a change rolls the racks.
type Config struct {
	CassandraYAML map[string]any `json:"cassandra-yaml,omitempty" doc:"Keys merged over cassandra.yaml, e.g. {num_tokens: 16}. auto_bootstrap cannot be turned off: ringops bootstraps every new node."`
	JVMOptions    []string       `json:"jvm-options,omitempty" doc:"Extra JVM options, e.g. [-Xmx8G]."`
}

// Jolokia says how to reach the Jolokia agent of every node, and how the
// agent is protected: basic auth (a Secret ringops keeps unless one is
// named), optionally HTTPS, and a NetworkPolicy on its port.
type Jolokia struct {
	Port              *int32                `json:"port,omitempty" doc:"Jolokia agent port. Default: 8778."`
	CredentialsSecret string                `json:"credentialsSecret,omitempty" doc:"Secret (keys username, password) in the cluster's namespace holding the Jolokia basic-auth credentials, in every region. Empty (the default): ringops creates and keeps the Secret <name>-jolokia in each region, with a random user and password, never printed. none: no authentication, anyone who reaches the port has full JMX (only for --via proxy, which cannot carry credentials; restrict networkPolicy.from then)."`
	Rotate            string                `json:"rotate,omitempty" doc:"Any token (a date, a ticket): changing it gives the Secret ringops keeps a new random password, then restarts every node, one rack at a time as any template change (the agent reads its password at start). ringops tries the previous password on the nodes not yet restarted. With credentialsSecret set, change the Secret yourself, then this token to restart the nodes."`
	AgentImage        string                `json:"agentImage,omitempty" doc:"Image holding the Jolokia JVM agent at /jolokia/jolokia-agent.jar and a POSIX sh: an init container copies the jar into the pod and writes its options (host 0.0.0.0, the port, a concurrent executor, the credentials), and Cassandra loads it with -javaagent. Default: ghcr.io/ringops/jolokia-agent:2.6.0 (images/jolokia-agent/Dockerfile; Jolokia 2.x needs Java 11+: for Cassandra 3.11 build it with a 1.x agent). none: the Cassandra image runs the agent itself, on spec.jolokia.port, with a concurrent executor."`
	TLS               *JolokiaTLS           `json:"tls,omitempty" doc:"Serve the agent over HTTPS with a certificate from a Secret; ringops checks it against a CA. Needs the injected agent (not agentImage: none). Unset: plain HTTP."`
	NetworkPolicy     *JolokiaNetworkPolicy `json:"networkPolicy,omitempty" doc:"The NetworkPolicy <name>-jolokia rendered in every region: the agent port admits only the peers of from; Cassandra's ports 7000, 7001 and 9042 stay open to all."`
}

// JolokiaTLS is the agent's HTTPS: its certificate and key, and the CA
// ringops checks them against.
type JolokiaTLS struct {
	Secret       string  `json:"secret" doc:"Secret (type kubernetes.io/tls, e.g. from cert-manager) in the cluster's namespace, in every region: tls.crt, the agent's certificate chain, and tls.key, its unencrypted PEM key. The agent reads them when the node starts: a renewed certificate is served after the next restart (change spec.jolokia.rotate)."`
	KeyAlgorithm string  `json:"keyAlgorithm,omitempty" enum:"RSA,EC" doc:"Algorithm of tls.key (PKCS#1, SEC 1 or PKCS#8 PEM). Default: RSA."`
	CASecret     *KeyRef `json:"caSecret,omitempty" doc:"Secret key holding the PEM CA bundle the agents' certificates chain to. Default: the key ca.crt of secret. One of caSecret and caConfigMap."`
	CAConfigMap  *KeyRef `json:"caConfigMap,omitempty" doc:"ConfigMap key holding the PEM CA bundle the agents' certificates chain to. One of caSecret and caConfigMap."`
	ServerName   string  `json:"serverName,omitempty" doc:"Name every agent's certificate must carry (DNS SAN). Empty: the certificate must chain to the CA, its name is not checked (nodes are reached by pod IP)."`
}

// JolokiaNetworkPolicy says who may reach the agent port.
type JolokiaNetworkPolicy struct {
	Enabled *bool         `json:"enabled,omitempty" doc:"Render the NetworkPolicy. false: none, the agent port is open to whatever the pod network lets through. Default: true."`
	From    []NetworkPeer `json:"from,omitempty" max:"32" doc:"Who may reach the agent port: where ringops runs. Default: the pods labelled app.kubernetes.io/name=ringops in the namespace ringops (the chart's, installed there). Selectors match only in the region's own Kubernetes cluster: add the CIDR ringops comes from for the regions it reaches from outside (another cluster, a CI runner with ringops apply)."`
}

// NetworkPeer is one source admitted to the agent port: pods by labels
// (of their namespace, of themselves, or both), or an IP block.
type NetworkPeer struct {
	NamespaceSelector map[string]string `json:"namespaceSelector,omitempty" doc:"Labels of the namespaces (matchLabels), e.g. {kubernetes.io/metadata.name: ringops}. Alone: every pod of those namespaces."`
	PodSelector       map[string]string `json:"podSelector,omitempty" doc:"Labels of the pods (matchLabels); without namespaceSelector, pods of the cluster's namespace only."`
	CIDR              string            `json:"cidr,omitempty" doc:"An IP block, e.g. 10.8.0.0/16, alone in its entry."`
}

// CQL says how ringops reaches the nodes over the native protocol (port
// 9042, contacted by pod IP, one datacenter at a time).
type CQL struct {
	Authentication    string  `json:"authentication,omitempty" enum:"Password,None" doc:"Password: the nodes run PasswordAuthenticator, CassandraAuthorizer and CassandraRoleManager (cassandra.yaml), and every CQL client needs a role; without credentialsSecret ringops creates its own superuser role ringops, keeps its password in the Secret <name>-cql of each region, and disables the default superuser cassandra. None: AllowAllAuthenticator, anyone who reaches port 9042 may do anything. Default: what spec.config.cassandra-yaml.authenticator says, else Password. A running cluster is never switched by leaving this field out: write the value."`
	CredentialsSecret string  `json:"credentialsSecret,omitempty" doc:"Secret (keys username, password) in the cluster's namespace, in every region, holding a role of yours allowed to ALTER the managed keyspaces (authentication: Password); ringops then creates no role. Empty: with authentication Password, the Secret <name>-cql ringops keeps; with None, no credentials."`
	TLS               *CQLTLS `json:"tls,omitempty" doc:"Connect with TLS (client_encryption_options enabled on the nodes). Unset: plain connections."`
	Rotate            string  `json:"rotate,omitempty" doc:"Any token (a date, a ticket): changing it gives ringops' own role (authentication Password, no credentialsSecret) a new random password: ringops writes it into the Secret <name>-cql of every region, keeping the one before as previous-password, then sets it with ALTER ROLE (logged in with the one before). No node restarts: roles live in the ring. Needs --manage-keyspaces (the default), as ringops speaks CQL only then. With credentialsSecret, change your role's password and your Secret yourself."`
}

// CQLTLS is the TLS of the CQL connections: the nodes' certificates must
// chain to the CA read from a Secret or a ConfigMap of the cluster's
// namespace, in every region.
type CQLTLS struct {
	CASecret    *KeyRef `json:"caSecret,omitempty" doc:"Secret key holding the PEM CA bundle the nodes' certificates chain to. One of caSecret and caConfigMap."`
	CAConfigMap *KeyRef `json:"caConfigMap,omitempty" doc:"ConfigMap key holding the PEM CA bundle the nodes' certificates chain to. One of caSecret and caConfigMap."`
	ServerName  string  `json:"serverName,omitempty" doc:"Name every node's certificate must carry (DNS SAN). Empty: the certificate must chain to the CA, its name is not checked (nodes are reached by pod IP)."`
}

// KeyRef names one key of a Secret or ConfigMap in the cluster's namespace.
type KeyRef struct {
	Name string `json:"name" doc:"Name of the Secret or ConfigMap."`
	Key  string `json:"key,omitempty" doc:"Key holding the PEM data. Default: ca.crt."`
}

// Keyspace is a keyspace whose replication ringops owns.
type Keyspace struct {
	Name        string           `json:"name" doc:"Keyspace name as Cassandra stores it (lower case unless it was created with a quoted name). ringops alters the replication of a keyspace that exists; it never creates nor drops one."`
	Replication map[string]int32 `json:"replication" doc:"Replicas per datacenter, e.g. {dc1: 3, dc2: 3} (NetworkTopologyStrategy). A datacenter left out (or 0) holds no replica; each factor is at most the datacenter's node count."`
}

// Rollout controls the pace and timing of disruptive steps.
type Rollout struct {
	HealthTimeout string   `json:"healthTimeout,omitempty" doc:"How long a step may wait for a healthy ring before its rollout fails. Go duration. Default: 30m."`
	Settle        string   `json:"settle,omitempty" doc:"Pause after the ring became healthy before the next disruptive step. Go duration. Default: 10s."`
	Paused        bool     `json:"paused,omitempty" doc:"Stop disruptive steps (bootstraps, decommissions, restarts); non-disruptive objects are still applied."`
	Windows       []Window `json:"windows,omitempty" doc:"Change windows: when set, disruptive steps start only inside one of them."`
	// replace (#16): cleanup after growth, see operations.go.
	CleanupAfterScaleUp *bool  `json:"cleanupAfterScaleUp,omitempty" doc:"After nodes joined a datacenter that had been complete, run nodetool cleanup on each older node of it, one at a time, gated like a bootstrap: they still hold the data of the ranges they gave away. Default: true."`
	CleanupJobs         *int32 `json:"cleanupJobs,omitempty" max:"32" doc:"Tables a node cleans up at once (nodetool cleanup -j). Default: 1."`
}

// Window is a change window: it opens at each activation of Schedule and
// stays open for Duration.
type Window struct {
	Schedule string `json:"schedule" doc:"Cron expression (5 fields, or @daily and friends) of the window's opening."`
	Duration string `json:"duration" doc:"How long the window stays open, as a Go duration, e.g. 4h."`
	TimeZone string `json:"timeZone,omitempty" doc:"IANA time zone of the schedule, e.g. Europe/Paris. Default: UTC."`
}

// PodSettings are extra settings of every Cassandra pod.
type PodSettings struct {
	Annotations                   map[string]string `json:"annotations,omitempty" doc:"Annotations of every Cassandra pod."`
	Labels                        map[string]string `json:"labels,omitempty" doc:"Labels of every Cassandra pod."`
	ServiceAccountName            string            `json:"serviceAccountName,omitempty" doc:"ServiceAccount of the Cassandra pods."`
	TerminationGracePeriodSeconds *int64            `json:"terminationGracePeriodSeconds,omitempty" doc:"Time a node has to drain before it is killed. Default: 1800."`
	HardAntiAffinity              bool              `json:"hardAntiAffinity,omitempty" doc:"Require (rather than prefer) one Cassandra pod per Kubernetes node."`
}
