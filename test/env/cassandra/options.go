package cassandra

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"
)

// Options tune the simulation. Durations are wall-clock; tests use small ones.
type Options struct {
	// BootstrapTime is how long a new non-seed node stays JOINING before it
	// becomes NORMAL.
	BootstrapTime time.Duration
	// StartupTime is how long a node stays STARTING (Jolokia already up,
	// gossip not yet) before it contacts its seeds.
	StartupTime time.Duration
	// DecommissionTime is how long a decommissioned node stays LEAVING
	// (streaming) before it announces it has left.
	DecommissionTime time.Duration
	// GossipInterval is the period of a gossip round: every live node
	// exchanges state with every peer it can reach, failure detectors are
	// updated and timed transitions (JOINING -> NORMAL, ...) happen.
	GossipInterval time.Duration
	// SeedTimeout is how long a starting non-seed node keeps trying its seeds
	// before it fails with ErrNoSeeds.
	SeedTimeout time.Duration
	// FatClientTimeout is how long a bootstrapping node may be down before
	// the others evict it from gossip (Cassandra: 30 s).
	FatClientTimeout time.Duration
	// ReleaseVersion is the Cassandra version the nodes report. Versions
	// below 4 ("3.11.17") select the 3.x MBean surface: decommission()
	// without argument and no ...WithPort attributes.
	ReleaseVersion string
	// NumTokens is the number of tokens (vnodes) a new node draws.
	NumTokens int
	// Keyspaces are the user keyspaces every ring has, besides the system
	// keyspaces. They appear in StorageService.Keyspaces and count in the
	// replication-factor check of decommission(false) on 4.x.
	Keyspaces []Keyspace
	// CQLPort is the port of every node's CQL server on its IP (cql*.go):
	// 0 is DefaultCQLPort (9042), a negative port runs none.
	CQLPort int
	// CQLRoles turn on PasswordAuthenticator: the roles every ring knows,
	// by name. Empty: AllowAllAuthenticator (no authentication).
	CQLRoles map[string]CQLRole
	// CQLTLS, when set, makes the CQL servers speak TLS only
	// (client_encryption_options enabled, not optional).
	CQLTLS *tls.Config
}

// Keyspace is a user keyspace with NetworkTopologyStrategy replication.
type Keyspace struct {
	Name string
	// Replication is the replication factor per datacenter.
	Replication map[string]int
}

// DefaultOptions returns options fit for tests: a 2 s bootstrap, 50 ms gossip
// rounds, Cassandra 4.1.5 with 16 tokens.
func DefaultOptions() Options {
	return Options{
		BootstrapTime:    2 * time.Second,
		StartupTime:      100 * time.Millisecond,
		DecommissionTime: 1 * time.Second,
		GossipInterval:   50 * time.Millisecond,
		SeedTimeout:      3 * time.Second,
		FatClientTimeout: 3 * time.Second,
		ReleaseVersion:   "4.1.5",
		NumTokens:        16,
	}
}

// withDefaults fills zero fields from DefaultOptions, except the phase
// durations (BootstrapTime, StartupTime, DecommissionTime) where 0 means
// at once.
func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.GossipInterval <= 0 {
		o.GossipInterval = d.GossipInterval
	}
	if o.SeedTimeout <= 0 {
		o.SeedTimeout = d.SeedTimeout
	}
	if o.FatClientTimeout <= 0 {
		o.FatClientTimeout = d.FatClientTimeout
	}
	if o.ReleaseVersion == "" {
		o.ReleaseVersion = d.ReleaseVersion
	}
	if o.NumTokens <= 0 {
		o.NumTokens = d.NumTokens
	}
	return o
}

// legacy reports whether the release is a 3.x (or older) Cassandra.
func (o Options) legacy() bool {
	major, _, _ := strings.Cut(o.ReleaseVersion, ".")
	return len(major) == 1 && major < "4"
}

// Resolver maps a seed host name to the current IP of the pod behind it.
// The kubelet looks the pod up by the first DNS label of host.
type Resolver func(host string) (ip string, ok bool)

// NodeConfig is what a Cassandra container is started with (see the pod
// contract in render/doc.go).
type NodeConfig struct {
	// Key identifies the node's data (the PVC UID): a node started again with
	// the same Key keeps its host ID and tokens and does not bootstrap again.
	Key string
	// Pod, Namespace and Region name the pod; they are reported, not used.
	Pod, Namespace, Region string
	// IP is the pod IP, a unique 127.x.y.z; Jolokia listens on IP:JolokiaPort.
	IP string
	// ClusterName, DC and Rack come from CASSANDRA_CLUSTER_NAME, CASSANDRA_DC
	// and CASSANDRA_RACK.
	ClusterName, DC, Rack string
	// Seeds come from CASSANDRA_SEEDS (comma-split): DNS names resolved with
	// the Resolver, or plain IPs.
	Seeds []string
	// JolokiaPort is the agent's port; 0 picks a free one (see Node.JolokiaURL).
	JolokiaPort int
	// JolokiaUser and JolokiaPassword turn on basic auth when set.
	JolokiaUser, JolokiaPassword string
}

func (c NodeConfig) validate() error {
	for _, f := range []struct{ name, v string }{
		{"Key", c.Key}, {"IP", c.IP}, {"ClusterName", c.ClusterName}, {"DC", c.DC}, {"Rack", c.Rack},
	} {
		if f.v == "" {
			return fmt.Errorf("node config: %s is empty: %w", f.name, ErrInvalidConfig)
		}
	}
	if !isLoopbackIPv4(c.IP) {
		return fmt.Errorf("node config: IP %q is not an IPv4 loopback address: %w", c.IP, ErrInvalidConfig)
	}
	return nil
}

// name is how errors name the node.
func (c NodeConfig) name() string {
	if c.Pod != "" {
		return fmt.Sprintf("node %s/%s (%s)", c.Namespace, c.Pod, c.IP)
	}
	return fmt.Sprintf("node %s", c.IP)
}
