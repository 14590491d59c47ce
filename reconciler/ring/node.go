package ring

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// Node is one Cassandra node as ringops knows it from the spec and the kube
// API: a pod in a region. Its IP is the pod IP, which is the address the node
// has in the ring (its broadcast address, as with CassKop and cass-operator).
type Node struct {
	Cluster    string `json:"cluster"`
	Context    string `json:"context"` // kube context (region) the pod runs in
	Namespace  string `json:"namespace"`
	Pod        string `json:"pod"`
	Datacenter string `json:"datacenter"`
	Rack       string `json:"rack"`
	// IP is the pod IP from the pod status, "" when the pod does not exist
	// or has no IP yet (then the node cannot be queried).
	IP string `json:"address,omitempty"`
	// Port is the Jolokia agent's port (default 8778).
	Port int32 `json:"-"`
}

// String names the node in messages: "orders-dc1-r1-0 (eu-west, 10.0.0.1)".
func (n Node) String() string {
	where := n.Context
	if n.IP != "" {
		if where != "" {
			where += ", "
		}
		where += n.IP
	}
	if where == "" {
		return n.Pod
	}
	return fmt.Sprintf("%s (%s)", n.Pod, where)
}

// Ordinal is the StatefulSet ordinal at the end of the pod name, -1 if none.
func (n Node) Ordinal() int {
	i := strings.LastIndexByte(n.Pod, '-')
	if i < 0 {
		return -1
	}
	v, err := strconv.Atoi(n.Pod[i+1:])
	if err != nil {
		return -1
	}
	return v
}

// nodeLess orders nodes by datacenter, rack, StatefulSet ordinal and pod
// name: the order of every listing that reaches output.
func nodeLess(a, b Node) bool {
	if a.Datacenter != b.Datacenter {
		return a.Datacenter < b.Datacenter
	}
	if a.Rack != b.Rack {
		return a.Rack < b.Rack
	}
	if oa, ob := a.Ordinal(), b.Ordinal(); oa != ob {
		return oa < ob
	}
	if a.Pod != b.Pod {
		return a.Pod < b.Pod
	}
	return a.IP < b.IP
}

// NormalizeEndpoint returns the address in one of the forms Cassandra prints
// endpoints in, as a bare canonical IP: "10.0.0.1", "/10.0.0.1",
// "host/10.0.0.1", "10.0.0.1:7000", "[::1]:7000" and "/[::1]:7000" all
// become "10.0.0.1" or "::1". IPv4-mapped IPv6 addresses become IPv4. A
// string that holds no IP (a host name) is returned trimmed, unchanged.
func NormalizeEndpoint(s string) string {
	if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
		return s // canonical already: ParseAddr accepts only plain dotted quads
	}
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		s = s[i+1:]
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("").String()
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("").String()
	}
	return s
}
