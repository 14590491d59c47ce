package kubelet

import (
	"fmt"
	"time"
)

// Options configure the simulated kubelet of one region.
type Options struct {
	// Region names the region; it prefixes node names and is the value of
	// topology.kubernetes.io/region. Required.
	Region string
	// Nodes is the number of Node objects to register. Default: 9.
	Nodes int
	// Zones are the values of topology.kubernetes.io/zone, given to nodes in
	// turn. Default: <region>-a, <region>-b, <region>-c.
	Zones []string
	// PodIPs is the range pod IPs are drawn from (round robin, so that an IP
	// is not reused at once). Required.
	PodIPs IPRange
	// NodeIPs is the range node (host) IPs are drawn from. Required.
	NodeIPs IPRange
	// ProbeInterval is the period of the readiness probe. Default: 200ms.
	ProbeInterval time.Duration
	// ProbeTimeout bounds one readiness probe. Default: 1s.
	ProbeTimeout time.Duration
	// RestartBackoff is the delay before the first restart of a crashed
	// container; it doubles on each crash up to MaxRestartBackoff and is
	// reset when the container becomes ready. Default: 1s.
	RestartBackoff time.Duration
	// MaxRestartBackoff caps the restart delay. Default: 10s.
	MaxRestartBackoff time.Duration
	// HeartbeatInterval is the period of the nodes' Ready heartbeat.
	// Default: 30s.
	HeartbeatInterval time.Duration
	// RetryInterval is how soon a pod that cannot be scheduled yet, or an
	// API write that failed, is tried again. Default: 250ms.
	RetryInterval time.Duration
	// VolumeRoot, when set, makes the kubelet materialise every pod's
	// volumes as host directories under it (Spec.Volumes), for a runtime
	// that runs pods for real. Empty: volumes exist only in the API.
	VolumeRoot string
	// Logf receives one line per notable event (scheduling, starts, crashes,
	// deletions). Default: discard.
	Logf func(format string, args ...any)
}

// DefaultOptions returns the defaults of the optional fields.
func DefaultOptions() Options {
	return Options{
		Nodes:             9,
		ProbeInterval:     200 * time.Millisecond,
		ProbeTimeout:      time.Second,
		RestartBackoff:    time.Second,
		MaxRestartBackoff: 10 * time.Second,
		HeartbeatInterval: 30 * time.Second,
		RetryInterval:     250 * time.Millisecond,
		Logf:              func(string, ...any) {},
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	setDefault(&o.Nodes, d.Nodes)
	setDefault(&o.ProbeInterval, d.ProbeInterval)
	setDefault(&o.ProbeTimeout, d.ProbeTimeout)
	setDefault(&o.RestartBackoff, d.RestartBackoff)
	setDefault(&o.MaxRestartBackoff, d.MaxRestartBackoff)
	setDefault(&o.HeartbeatInterval, d.HeartbeatInterval)
	setDefault(&o.RetryInterval, d.RetryInterval)
	if len(o.Zones) == 0 {
		o.Zones = []string{o.Region + "-a", o.Region + "-b", o.Region + "-c"}
	}
	if o.Logf == nil {
		o.Logf = d.Logf
	}
	return o
}

func setDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

func (o Options) validate() error {
	if o.Region == "" {
		return fmt.Errorf("kubelet: region is required")
	}
	if err := o.PodIPs.validate(); err != nil {
		return fmt.Errorf("kubelet %s: pod IPs: %w", o.Region, err)
	}
	if err := o.NodeIPs.validate(); err != nil {
		return fmt.Errorf("kubelet %s: node IPs: %w", o.Region, err)
	}
	if o.NodeIPs.size() < o.Nodes {
		return fmt.Errorf("kubelet %s: %d node IPs for %d nodes", o.Region, o.NodeIPs.size(), o.Nodes)
	}
	return nil
}

// IPRange is the IPv4 addresses Prefix+First ... Prefix+Last, e.g.
// {"127.18.1.", 1, 254}.
type IPRange struct {
	Prefix      string
	First, Last int
}

func (r IPRange) validate() error {
	if r.Prefix == "" || r.First < 0 || r.Last > 255 || r.First > r.Last {
		return fmt.Errorf("invalid range %q %d-%d", r.Prefix, r.First, r.Last)
	}
	return nil
}

func (r IPRange) size() int { return r.Last - r.First + 1 }

// IP returns the i-th address of the range.
func (r IPRange) IP(i int) string { return fmt.Sprintf("%s%d", r.Prefix, r.First+i) }

// Fault is a misbehaviour a test gives a pod (by namespace and name, so it
// survives the pod's recreation).
type Fault int

const (
	// NoFault: the pod behaves.
	NoFault Fault = iota
	// CrashLoop: the running container dies and every start fails; the pod
	// shows CrashLoopBackOff with a growing restart count.
	CrashLoop
	// NeverReady: the container runs (the node joins the ring) but the
	// readiness probe always fails.
	NeverReady
	// Unschedulable: the pod is never bound; it stays Pending with
	// PodScheduled=False/Unschedulable. A pod already bound is unaffected.
	Unschedulable
)

func (f Fault) String() string {
	switch f {
	case NoFault:
		return "NoFault"
	case CrashLoop:
		return "CrashLoop"
	case NeverReady:
		return "NeverReady"
	case Unschedulable:
		return "Unschedulable"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}
