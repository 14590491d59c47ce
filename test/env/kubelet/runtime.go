package kubelet

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
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
	// Seeds are CASSANDRA_SEEDS, comma split: DNS names
	// (<pod>.<dnsDomain>), resolved with Directory.Lookup.
	Seeds []string
	// JolokiaPort is the container port named "jolokia" (0 when none).
	JolokiaPort int
	// JolokiaUser and JolokiaPassword come from JOLOKIA_USER and
	// JOLOKIA_PASSWORD, else from the Secret of the volume
	// jolokia-credentials (the injected agent's); empty means no
	// authentication.
	JolokiaUser, JolokiaPassword string
	// JolokiaAgents are the Jolokia agents of JVM_EXTRA_OPTS with their
	// options and files (the injected agent's: render's init container
	// script read, not run); none for an image that runs its own.
	JolokiaAgents []JolokiaAgent
	// Image is the container's image (its tag says the Cassandra release).
	Image string
	// Authenticator is cassandra.yaml's authenticator as the init
	// containers set it from the ConfigMap of render's overrides (the class
	// name; "" for the image's AllowAllAuthenticator).
	Authenticator string

	// What a runtime that runs the pod for real needs (the simulator reads
	// only the fields above, and JVM_EXTRA_OPTS of Env).

	// Object is the pod as the kubelet first saw it (its spec does not
	// change).
	Object *corev1.Pod
	// Env is the "cassandra" container's environment, resolved as the
	// kubelet does (envFrom, env, $(VAR) references).
	Env map[string]string
	// InitEnv is the environment of each init container, by name (with
	// Options.VolumeRoot only).
	InitEnv map[string]map[string]string
	// Volumes maps the pod's volume names to host directories holding their
	// files, when the kubelet materialises volumes (Options.VolumeRoot):
	// a claim's directory lives as long as its PersistentVolume, an
	// emptyDir's as long as the pod, configMap and secret volumes hold
	// their keys as files.
	Volumes map[string]string
	// GracePeriod is the pod's terminationGracePeriodSeconds: how long Stop
	// may take (preStop hook, then SIGTERM) before the kill.
	GracePeriod time.Duration
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

// LogTailer is implemented by containers that keep a log. When their pod's
// cassandra container has terminationMessagePolicy FallbackToLogsOnError
// and exits by itself, the kubelet makes the end of that log the
// terminated state's message, as a real kubelet does: the last 80 lines,
// 2048 bytes at most.
type LogTailer interface {
	// LogTail is the end of the log: at most lines lines and limit bytes.
	LogTail(lines, limit int) string
}

// Prober is implemented by containers that run the pod's own readiness
// probe: the kubelet then asks it instead of reading the node's mode.
type Prober interface {
	// Probe runs the readiness probe once; nil means ready.
	Probe(ctx context.Context) error
}

// Runtime starts Cassandra containers: the simulator, or real Cassandra
// JVMs (test/env/realcassandra).
type Runtime interface {
	// Start starts a node and returns once it runs (it may block while the
	// node starts; ctx cancels the start). An error means the process exited
	// at start: the kubelet treats it as a container crash and restarts it
	// after a backoff.
	Start(ctx context.Context, spec Spec) (Container, error)
}

// Directory maps pod names to pod IPs across every region of a world: the
// cluster DNS for the headless services that name Cassandra seeds, and the
// records external-DNS would publish. It is safe for concurrent use.
//
// Names, as a pod of region R resolves them (Hosts):
//
//	<pod>.<subdomain>.<namespace>.svc.cluster.local   pods of R only (cluster DNS)
//	<pod>.<subdomain>.<namespace>                     the same, as a pod's search list
//	                                                  (svc.cluster.local) completes it:
//	                                                  CassKop's seeds are such names
//	<pod>.<hostname>                                  pods of every region whose
//	                                                  headless Service <subdomain>
//	                                                  carries the annotation
//	                                                  external-dns.alpha.kubernetes.io/hostname
//	                                                  (comma-separated hostnames)
type Directory struct {
	mu       sync.Mutex
	pods     map[string][]dirEntry // by pod name
	services map[serviceKey][]string
	watchers []func()
}

type dirEntry struct{ region, namespace, subdomain, ip string }

type serviceKey struct{ region, namespace, name string }

// ClusterDomain is the cluster DNS domain of every region.
const ClusterDomain = "cluster.local"

// AnnotationExternalDNS is the Service annotation from which external-DNS
// publishes <pod>.<hostname> records for a headless Service's pods.
const AnnotationExternalDNS = "external-dns.alpha.kubernetes.io/hostname"

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{pods: map[string][]dirEntry{}, services: map[serviceKey][]string{}}
}

// OnChange registers f, called after every change (not under the lock).
func (d *Directory) OnChange(f func()) {
	d.mu.Lock()
	d.watchers = append(d.watchers, f)
	d.mu.Unlock()
}

func (d *Directory) changed() {
	d.mu.Lock()
	ws := append([]func(){}, d.watchers...)
	d.mu.Unlock()
	for _, f := range ws {
		f()
	}
}

// Set records the IP of a pod; subdomain is its spec.subdomain (the
// headless Service of a StatefulSet's pods).
func (d *Directory) Set(region, namespace, pod, subdomain, ip string) {
	d.mu.Lock()
	d.remove(region, namespace, pod)
	d.pods[pod] = append(d.pods[pod], dirEntry{region, namespace, subdomain, ip})
	sort.Slice(d.pods[pod], func(i, j int) bool {
		a, b := d.pods[pod][i], d.pods[pod][j]
		return a.region+"/"+a.namespace < b.region+"/"+b.namespace
	})
	d.mu.Unlock()
	d.changed()
}

// Delete forgets a pod, if it still has this IP.
func (d *Directory) Delete(region, namespace, pod, ip string) {
	d.mu.Lock()
	found := false
	for _, e := range d.pods[pod] {
		if e.region == region && e.namespace == namespace && e.ip == ip {
			d.remove(region, namespace, pod)
			found = true
			break
		}
	}
	d.mu.Unlock()
	if found {
		d.changed()
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

// SetService records the external-DNS hostnames of a Service (none: it
// publishes nothing).
func (d *Directory) SetService(region, namespace, name string, hostnames []string) {
	k := serviceKey{region, namespace, name}
	d.mu.Lock()
	if slices.Equal(d.services[k], hostnames) {
		d.mu.Unlock()
		return
	}
	if len(hostnames) == 0 {
		delete(d.services, k)
	} else {
		d.services[k] = slices.Clone(hostnames)
	}
	d.mu.Unlock()
	d.changed()
}

// Host is one name and its address.
type Host struct{ Name, IP string }

// Hosts returns every name a pod of region resolves, sorted by name (a
// name published from two regions keeps its first, by region).
func (d *Directory) Hosts(region string) []Host {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen := map[string]bool{}
	var out []Host
	add := func(name, ip string) {
		if !seen[name] {
			seen[name] = true
			out = append(out, Host{name, ip})
		}
	}
	for _, pod := range slices.Sorted(maps.Keys(d.pods)) {
		for _, e := range d.pods[pod] {
			if e.subdomain == "" {
				continue
			}
			if e.region == region {
				add(pod+"."+e.subdomain+"."+e.namespace+".svc."+ClusterDomain, e.ip)
				// A pod resolves <pod>.<service>.<namespace> through the
				// search list of its resolv.conf (ndots 5: svc.cluster.local
				// is tried first); a hosts file has no search list.
				add(pod+"."+e.subdomain+"."+e.namespace, e.ip)
			}
			for _, h := range d.services[serviceKey{e.region, e.namespace, e.subdomain}] {
				add(pod+"."+strings.TrimSuffix(h, "."), e.ip)
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup resolves host as a pod of region does: an exact name of
// Hosts(region) (what the region's hosts file holds for real nodes), or
// nothing. The simulator resolves seed names with it.
func (d *Directory) Lookup(region, host string) (string, bool) {
	for _, h := range d.Hosts(region) {
		if h.Name == host {
			return h.IP, true
		}
	}
	return "", false
}
