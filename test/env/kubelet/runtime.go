package kubelet

import (
	"context"
	"sort"
	"strings"
	"sync"
)

// Spec is what a Cassandra container is started with, read from the pod
// (see the pod contract in render/doc.go).
type Spec struct {
	// Key identifies the node's data: the UID of the claim behind the pod's
	// "data" volume, or the pod UID when it has none (ephemeral data).
	Key string
	// Pod, Namespace and Region name the pod.
	Pod, Namespace, Region string
	// IP is the pod IP, a unique loopback address.
	IP string
	// ClusterName, DC and Rack come from CASSANDRA_CLUSTER_NAME,
	// CASSANDRA_DC and CASSANDRA_RACK (defaults as in the Cassandra image:
	// "Test Cluster", "dc1", "rack1").
	ClusterName, DC, Rack string
	// Seeds are CASSANDRA_SEEDS, comma split: DNS names whose first label is
	// a pod name (resolve them with the Directory).
	Seeds []string
	// JolokiaPort is the container port named "jolokia" (0 when none).
	JolokiaPort int
	// JolokiaUser and JolokiaPassword come from JOLOKIA_USER and
	// JOLOKIA_PASSWORD; empty means no authentication.
	JolokiaUser, JolokiaPassword string
	// Image is the container's image (its tag says the Cassandra release).
	Image string
}

// Container is a running Cassandra process.
type Container interface {
	// Mode is the node's OperationMode: "STARTING", "JOINING", "NORMAL", ...
	Mode() string
	// Stop shuts the node down gracefully and returns when it is down.
	Stop()
	// Kill ends the node at once, as SIGKILL does.
	Kill()
	// Done is closed when the process has ended (Stop, Kill, or by itself).
	Done() <-chan struct{}
}

// Runtime starts Cassandra containers: the simulator, in the local world.
type Runtime interface {
	// Start starts a node and returns once it runs (it may block while the
	// node starts; ctx cancels the start). An error means the process exited
	// at start: the kubelet treats it as a container crash and restarts it
	// after a backoff.
	Start(ctx context.Context, spec Spec) (Container, error)
}

// Directory maps pod names to pod IPs across every region of a world: the
// cluster DNS for the headless services that name Cassandra seeds. It is
// safe for concurrent use.
type Directory struct {
	mu   sync.Mutex
	pods map[string][]dirEntry // by pod name
}

type dirEntry struct{ region, namespace, ip string }

// NewDirectory returns an empty directory.
func NewDirectory() *Directory { return &Directory{pods: map[string][]dirEntry{}} }

// Set records the IP of a pod.
func (d *Directory) Set(region, namespace, pod, ip string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.remove(region, namespace, pod)
	d.pods[pod] = append(d.pods[pod], dirEntry{region, namespace, ip})
	sort.Slice(d.pods[pod], func(i, j int) bool {
		a, b := d.pods[pod][i], d.pods[pod][j]
		return a.region+"/"+a.namespace < b.region+"/"+b.namespace
	})
}

// Delete forgets a pod, if it still has this IP.
func (d *Directory) Delete(region, namespace, pod, ip string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, e := range d.pods[pod] {
		if e.region == region && e.namespace == namespace && e.ip == ip {
			d.remove(region, namespace, pod)
			return
		}
	}
}

func (d *Directory) remove(region, namespace, pod string) {
	var keep []dirEntry
	for _, e := range d.pods[pod] {
		if e.region != region || e.namespace != namespace {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		delete(d.pods, pod)
		return
	}
	d.pods[pod] = keep
}

// Resolve returns the IP of the pod named by the first DNS label of host
// (<pod>.<service>.<namespace>.svc...). When pods of that name exist in
// several regions or namespaces, one in the namespace the name gives (its
// third label) wins, then the first by region and namespace.
func (d *Directory) Resolve(host string) (string, bool) {
	labels := strings.Split(host, ".")
	d.mu.Lock()
	defer d.mu.Unlock()
	es := d.pods[labels[0]]
	if len(es) == 0 {
		return "", false
	}
	if len(labels) >= 3 {
		for _, e := range es {
			if e.namespace == labels[2] {
				return e.ip, true
			}
		}
	}
	return es[0].ip, true
}
