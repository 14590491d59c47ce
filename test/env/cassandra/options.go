package cassandra

import (
	"crypto/tls"
	"fmt"
	"strings"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
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
	// NativeTransportDelay is how long a node that turned NORMAL waits
	// before its native transport (CQL) runs: StorageService's
	// NativeTransportRunning is false until then (Cassandra sets NORMAL,
	// then lets gossip settle and checks connectivity, 5-15 s, before it
	// starts the native transport). 0: at once.
	NativeTransportDelay time.Duration
	// ReleaseVersion is the Cassandra version a node reports when its
	// NodeConfig names none (default 5.0.9). It selects the node's Version
	// profile: "3.11.17" the 3.x MBean surface (decommission() without
	// argument, no ...WithPort attributes), "4.1.7" the 4.x one, "5.0.9"
	// 5.0's (no HostIdMap), and the long operations' behaviour on failure
	// (release.go).
	ReleaseVersion string
	// UpgradeTime is how long upgradeSSTables takes to rewrite the old
	// sstables of one keyspace.
	UpgradeTime time.Duration
	// RemoveTime is how long removeNode re-replicates a dead node's data
	// before the node leaves the ring (replace.go); CleanupTime how long
	// forceKeyspaceCleanup takes per keyspace (cleanup.go). 0: at once.
	RemoveTime, CleanupTime time.Duration
	// NumTokens is the number of tokens (vnodes) a new node draws.
	NumTokens int
	// Keyspaces are the user keyspaces every ring has, besides the system
	// keyspaces. They appear in StorageService.Keyspaces and count in the
	// replication-factor check of decommission(false) on 4.x.
	Keyspaces []Keyspace
	// CQLPort is the port of every node's CQL server on its IP (cql*.go):
	// 0 is DefaultCQLPort (9042), a negative port runs none.
	CQLPort int
	// CQLRoles turn on PasswordAuthenticator on every node, whatever its
	// NodeConfig.Authenticator: the roles every ring starts with, by name.
	// Empty: each node's NodeConfig.Authenticator decides, and a ring
	// gets the default superuser cassandra/cassandra (cqlroles.go).
	CQLRoles map[string]CQLRole
	// SuperuserSetupDelay is how long after a node's native transport
	// starts a ring without roles gets the default superuser (Cassandra's
	// superuser_setup_delay_ms, 10 s). 0: at once.
	SuperuserSetupDelay time.Duration
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
// rounds, CQL 100 ms after NORMAL, Cassandra 5.0.9 with 16 tokens.
func DefaultOptions() Options {
	return Options{
		BootstrapTime:        2 * time.Second,
		StartupTime:          100 * time.Millisecond,
		DecommissionTime:     1 * time.Second,
		UpgradeTime:          200 * time.Millisecond,
		RemoveTime:           500 * time.Millisecond,
		CleanupTime:          200 * time.Millisecond,
		GossipInterval:       50 * time.Millisecond,
		SeedTimeout:          3 * time.Second,
		FatClientTimeout:     3 * time.Second,
		NativeTransportDelay: 100 * time.Millisecond,
		SuperuserSetupDelay:  500 * time.Millisecond,
		ReleaseVersion:       "5.0.9",
		NumTokens:            16,
	}
}

// withDefaults fills zero fields from DefaultOptions, except the phase
// durations (BootstrapTime, StartupTime, DecommissionTime, UpgradeTime,
// NativeTransportDelay) where 0 means at once.
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

// Resolver maps a seed's DNS name, as CASSANDRA_SEEDS gives it
// (<pod>.<dnsDomain>), to the current IP behind it, as the DNS of the
// resolving node's region does (region is NodeConfig.Region): the whole
// name, never only its first label, so that a seed name under a dnsDomain
// nobody publishes resolves nowhere, as on a real node (test/env passes
// kubelet.Directory.Lookup, the names of the hosts file the real nodes of
// that region resolve with). Nodes call it when Cassandra resolves its
// seeds: at start and at the shadow round, never while they run.
type Resolver func(region, host string) (ip string, ok bool)

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
	// Authenticator is cassandra.yaml's authenticator (the class name, or
	// 5.0's class_name): PasswordAuthenticator makes the node ask clients
	// for credentials; "" or any other: AllowAllAuthenticator (cqlroles.go).
	Authenticator string
	// JolokiaPort is the agent's port; 0 picks a free one (see Node.JolokiaURL).
	JolokiaPort int
	// JolokiaUser and JolokiaPassword turn on basic auth when set.
	JolokiaUser, JolokiaPassword string
	// JolokiaTLS makes the agent on JolokiaPort serve HTTPS, as the JVM
	// agent with protocol=https; nil: HTTP.
	JolokiaTLS *jolokia.AgentTLS
	// JolokiaAgentError, when set, is why the agent on JolokiaPort does
	// not start (jolokia.ErrAgentStart): the node runs, its port is bound
	// and never answers, as a real agent's that did not start.
	JolokiaAgentError error
	// JolokiaProbePort, when not 0, is a second agent of the node's in
	// plain HTTP (same MBeans, credentials and faults) on IP (the pod's
	// loopback stands for it here): the listener render adds for the
	// readiness probe with spec.jolokia.tls.
	JolokiaProbePort int
	// ReleaseVersion is the version this process runs (the image's tag),
	// "" for Options.ReleaseVersion. A node restarted with another one (a
	// new image) reports the new one: rings of mixed versions.
	ReleaseVersion string
	// ReplaceAddress is -Dcassandra.replace_address_first_boot: on data
	// that never finished joining, the node takes over the tokens of the
	// dead node at that address and streams its data (replace.go); on
	// data that did, it is ignored, as Cassandra ignores it.
	ReplaceAddress string
	// TokenAllocationRF is allocate_tokens_for_local_replication_factor:
	// 0 for the image's default (3 from 4.0, none for 3.x), -1 for none.
	// A new node of a datacenter whose racks are more than one but fewer
	// than it fails to start when its rack already has a node (tokens.go).
	TokenAllocationRF int
	// JVMOptions are the JVM's options (the pod's JVM_EXTRA_OPTS, split
	// at blanks); of them the node reads the system properties it acts
	// on (-Dname=value, the last one winning as in Java):
	// cassandra.reset_bootstrap_progress (available.go).
	JVMOptions []string
}

// systemProperty is System.getProperty(name) for the JVMOptions: the value
// of the last -Dname=value (-Dname alone is ""), ok false when none sets it.
func (c NodeConfig) systemProperty(name string) (v string, ok bool) {
	for _, o := range c.JVMOptions {
		switch {
		case o == "-D"+name:
			v, ok = "", true
		case strings.HasPrefix(o, "-D"+name+"="):
			v, ok = strings.TrimPrefix(o, "-D"+name+"="), true
		}
	}
	return v, ok
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
	if _, err := VersionOf(c.ReleaseVersion); err != nil {
		return fmt.Errorf("node config: %w: %w", err, ErrInvalidConfig)
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
