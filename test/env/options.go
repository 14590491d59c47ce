package env

import (
	"time"

	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/kubelet"
	"github.com/ringops/ringops/test/env/realcassandra"
)

// Options configure a world.
type Options struct {
	// Regions names the regions, one control plane each, in order.
	// Default: eu-west, us-east, ap-south.
	Regions []string
	// Dir is the world's directory (certificates, etcd data, logs,
	// kubeconfig). Default: a new directory under the system temporary
	// directory, removed by Stop unless KeepDir is set (or, under Start, the
	// test failed).
	Dir string
	// KeepDir keeps Dir after Stop.
	KeepDir bool
	// ControlPlaneDir holds kube-apiserver and kube-controller-manager.
	// Default: $RINGOPS_CONTROLPLANE_DIR, else the cache filled by
	// test/env/tools/controlplane/build.sh (run when needed).
	ControlPlaneDir string
	// EtcdPath is the etcd binary. Default: "etcd" from PATH.
	EtcdPath string
	// NodesPerRegion is the number of nodes each kubelet registers.
	// Default: 9.
	NodesPerRegion int
	// Cassandra tunes the simulated Cassandra. Default: TestCassandraOptions().
	Cassandra *cassandra.Options
	// RealCassandra runs every Cassandra pod as a real Cassandra 5.0 JVM
	// (test/env/realcassandra) instead of the simulator: the kubelets then
	// materialise volumes, run the pods' init containers, readiness probes
	// and preStop hooks, and keep a hosts file per region for seed names.
	RealCassandra bool
	// Real tunes the real nodes (JVM options, the Cassandra directory);
	// WorkDir, HostsFile and Logf are set by the world. Default: zero
	// Options (realcassandra's defaults).
	Real *realcassandra.Options
	// Kubelet tunes the simulated kubelets (probe period, restart backoff,
	// ...); Region, Nodes, PodIPs, NodeIPs and Logf are set by the world.
	// Default: TestKubeletOptions().
	Kubelet *kubelet.Options
	// StartTimeout bounds the start of the control planes (not the build
	// of their binaries). Default: 3 minutes.
	StartTimeout time.Duration
}

// DefaultRegions are the regions of a world by default.
var DefaultRegions = []string{"eu-west", "us-east", "ap-south"}

// DefaultOptions returns the defaults: three regions of nine nodes each,
// Cassandra and kubelet timings fit for tests.
func DefaultOptions() Options {
	c := TestCassandraOptions()
	k := TestKubeletOptions()
	return Options{
		Regions:        append([]string(nil), DefaultRegions...),
		NodesPerRegion: 9,
		Cassandra:      &c,
		Kubelet:        &k,
		StartTimeout:   3 * time.Minute,
	}
}

// TestCassandraOptions are fast Cassandra timings: a node is NORMAL about
// a second after its start (seed) or its bootstrap.
func TestCassandraOptions() cassandra.Options {
	o := cassandra.DefaultOptions()
	o.BootstrapTime = time.Second
	o.StartupTime = 100 * time.Millisecond
	o.DecommissionTime = time.Second
	o.GossipInterval = 50 * time.Millisecond
	o.SeedTimeout = 3 * time.Second
	return o
}

// RealOptions are the defaults of a world of real Cassandra nodes: three
// regions of three nodes each (one Cassandra pod per node fits the
// machine), a readiness probe every second.
func RealOptions() Options {
	o := DefaultOptions()
	o.RealCassandra = true
	o.NodesPerRegion = 3
	o.Kubelet.ProbeInterval = time.Second
	o.Kubelet.ProbeTimeout = 5 * time.Second
	o.Kubelet.RestartBackoff = 2 * time.Second
	o.Kubelet.MaxRestartBackoff = 20 * time.Second
	return o
}

// TestKubeletOptions are fast kubelet timings: probes every 100ms, the
// first restart after 500ms.
func TestKubeletOptions() kubelet.Options {
	o := kubelet.DefaultOptions()
	o.ProbeInterval = 100 * time.Millisecond
	o.RestartBackoff = 500 * time.Millisecond
	o.MaxRestartBackoff = 5 * time.Second
	return o
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if len(o.Regions) == 0 {
		o.Regions = d.Regions
	}
	if o.NodesPerRegion == 0 {
		o.NodesPerRegion = d.NodesPerRegion
	}
	if o.Cassandra == nil {
		o.Cassandra = d.Cassandra
	}
	if o.Kubelet == nil {
		o.Kubelet = d.Kubelet
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = d.StartTimeout
	}
	return o
}
