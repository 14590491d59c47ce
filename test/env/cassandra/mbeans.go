package cassandra

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/ringops/ringops/test/env/jolokia"
)

// MBean names the simulation registers on every node.
const (
	StorageServiceMBean  = "org.apache.cassandra.db:type=StorageService"
	StorageProxyMBean    = "org.apache.cassandra.db:type=StorageProxy"
	FailureDetectorMBean = "org.apache.cassandra.net:type=FailureDetector"
	EndpointSnitchMBean  = "org.apache.cassandra.db:type=EndpointSnitchInfo"
)

const storagePort = ":7000"

// bean is an MBean made of attribute getters and operations.
type bean struct {
	names []string
	attrs map[string]func() any
	ops   []operation
}

type operation struct {
	sig  jolokia.Operation
	call func(args []any) (any, error)
}

var _ jolokia.MBean = (*bean)(nil)

func newBean(attrs map[string]func() any, ops ...operation) *bean {
	return &bean{names: slices.Sorted(maps.Keys(attrs)), attrs: attrs, ops: ops}
}

func (b *bean) Attributes() []string { return slices.Clone(b.names) }

func (b *bean) Get(attribute string) (any, error) {
	get, ok := b.attrs[attribute]
	if !ok {
		return nil, jmxErr("javax.management.AttributeNotFoundException", "No such attribute: %s", attribute)
	}
	return get(), nil
}

func (b *bean) Operations() []jolokia.Operation {
	out := make([]jolokia.Operation, len(b.ops))
	for i, op := range b.ops {
		out[i] = op.sig
	}
	return out
}

func (b *bean) Invoke(op jolokia.Operation, args []any) (any, error) {
	for _, o := range b.ops {
		if o.sig.Name == op.Name && slices.Equal(o.sig.Params, op.Params) {
			return o.call(args)
		}
	}
	return nil, jmxErr("javax.management.ReflectionException", "No such operation: %s(%s)", op.Name, strings.Join(op.Params, ","))
}

// registry is one node's MBean server.
type registry struct {
	beans map[string]*bean
}

var _ jolokia.Registry = (*registry)(nil)

func (r *registry) Lookup(name string) (jolokia.MBean, bool) {
	b, ok := r.beans[canonicalName(name)]
	return b, ok
}

func (r *registry) Names() []string { return slices.Sorted(maps.Keys(r.beans)) }

// canonicalName sorts the key properties of an ObjectName, as JMX's
// canonical form does.
func canonicalName(name string) string {
	domain, props, ok := strings.Cut(name, ":")
	if !ok {
		return name
	}
	kv := strings.Split(props, ",")
	sort.Strings(kv)
	return domain + ":" + strings.Join(kv, ",")
}

// Registry returns the node's MBean server (what its Jolokia agent serves),
// with the attributes and operations of the node's Version.
func (n *Node) Registry() jolokia.Registry {
	legacy := n.version.legacy()
	r := &registry{beans: map[string]*bean{
		StorageServiceMBean:  n.storageService(),
		StorageProxyMBean:    n.storageProxy(legacy),
		FailureDetectorMBean: n.failureDetector(legacy),
		EndpointSnitchMBean:  n.endpointSnitch(),
		GossiperMBean:        n.gossiper(), // replace.go
	}}
	for name, b := range n.operationBeans() {
		r.beans[name] = b
	}
	return r
}

// read runs f under the sim lock.
func read[T any](n *Node, f func() T) func() any {
	return func() any {
		n.sim.mu.Lock()
		defer n.sim.mu.Unlock()
		return f()
	}
}

func (n *Node) storageService() *bean {
	legacy := n.version.legacy()
	attrs := map[string]func() any{
		"ClusterName":            func() any { return n.cfg.ClusterName },
		"LocalHostId":            func() any { return n.hostID },
		"ReleaseVersion":         func() any { return n.cfg.ReleaseVersion },
		"Tokens":                 func() any { return slices.Clone(n.disk.tokens) },
		"Keyspaces":              func() any { return n.sim.keyspaceNames() },
		"NonSystemKeyspaces":     func() any { return n.sim.userKeyspaceNames() },
		"OperationMode":          read(n, func() string { return n.mode.String() }),
		"SchemaVersion":          read(n, n.schemaVersion),
		"NativeTransportRunning": read(n, n.nativeTransportRunning),
		"Drained":                read(n, func() bool { return n.mode == ModeDrained }),
		"Draining":               read(n, func() bool { return n.mode == ModeDraining }),
		"GossipRunning":          read(n, func() bool { return n.gossiping }),
		"Initialized":            read(n, func() bool { return n.gossiping || n.mode == ModeDecommissioned }),
		"Joined":                 read(n, n.joined),
		"BootstrapMode":          read(n, func() bool { return n.mode == ModeJoining || n.mode == ModeJoiningFailed }),
		"EndpointToHostId":       read(n, func() map[string]string { return n.hostIDMap("") }),
		"HostIdToEndpoint":       read(n, func() map[string]string { return invert(n.hostIDMap("")) }),
	}
	if n.version.hasHostIDMap() {
		attrs["HostIdMap"] = read(n, func() map[string]string { return n.hostIDMap("") })
	}
	lists := map[string]func(port string) []string{
		"LiveNodes":        n.liveNodes,
		"UnreachableNodes": n.unreachableNodes,
		"JoiningNodes":     func(port string) []string { return n.withStatus(statusBoot, port) },
		"LeavingNodes": func(port string) []string {
			return sortAddrs(append(n.withStatus(statusLeaving, port), n.withStatus(statusRemoving, port)...))
		},
		"MovingNodes": func(string) []string { return []string{} },
	}
	for name, f := range lists {
		attrs[name] = read(n, func() []string { return f("") })
		if !legacy {
			attrs[name+"WithPort"] = read(n, func() []string { return f(storagePort) })
		}
	}
	attrs["LoadMap"] = read(n, func() map[string]string { return n.loadMap("") })
	attrs["RemovalStatus"] = read(n, func() string { return n.removalStatus(false) }) // replace.go
	if !legacy {
		attrs["RemovalStatusWithPort"] = read(n, func() string { return n.removalStatus(true) })
	}
	if !legacy {
		attrs["LoadMapWithPort"] = read(n, func() map[string]string { return n.loadMap(storagePort) })
		attrs["EndpointWithPortToHostId"] = read(n, func() map[string]string { return n.hostIDMap(storagePort) })
		attrs["HostIdToEndpointWithPort"] = read(n, func() map[string]string { return invert(n.hostIDMap(storagePort)) })
	}
	return newBean(attrs, n.storageServiceOps(legacy)...)
}

func (n *Node) storageServiceOps(legacy bool) []operation {
	decom := operation{
		sig:  jolokia.Operation{Name: "decommission", Params: []string{"boolean"}, Return: "void"},
		call: func(args []any) (any, error) { force, _ := args[0].(bool); return n.decommission(force) },
	}
	if legacy {
		decom = operation{
			sig:  jolokia.Operation{Name: "decommission", Params: []string{}, Return: "void"},
			call: func([]any) (any, error) { return n.decommission(false) },
		}
	}
	return append(n.operations(),
		decom,
		operation{
			sig:  jolokia.Operation{Name: "removeNode", Params: []string{"java.lang.String"}, Return: "void"},
			call: func(args []any) (any, error) { id, _ := args[0].(string); return n.removeNode(id) },
		},
		n.cleanupOperation(), // cleanup.go
		operation{
			sig:  jolokia.Operation{Name: "getTokens", Params: []string{}, Return: "java.util.List"},
			call: func([]any) (any, error) { return slices.Clone(n.disk.tokens), nil },
		},
	)
}

func (n *Node) storageProxy(legacy bool) *bean {
	attrs := map[string]func() any{
		"SchemaVersions": read(n, func() map[string][]string { return n.schemaVersions("") }),
	}
	if !legacy {
		attrs["SchemaVersionsWithPort"] = read(n, func() map[string][]string { return n.schemaVersions(storagePort) })
	}
	return newBean(attrs)
}

func (n *Node) failureDetector(legacy bool) *bean {
	attrs := map[string]func() any{
		"SimpleStates":        read(n, func() map[string]string { return n.simpleStates(false) }),
		"DownEndpointCount":   read(n, func() int { return countValues(n.simpleStates(false), "DOWN") }),
		"UpEndpointCount":     read(n, func() int { return countValues(n.simpleStates(false), "UP") }),
		"PhiConvictThreshold": func() any { return 8.0 },
	}
	if !legacy {
		attrs["SimpleStatesWithPort"] = read(n, func() map[string]string { return n.simpleStates(true) })
	}
	return newBean(attrs)
}

func (n *Node) endpointSnitch() *bean {
	return newBean(map[string]func() any{
		"Datacenter": func() any { return n.cfg.DC },
		"Rack":       func() any { return n.cfg.Rack },
		"SnitchName": func() any { return "org.apache.cassandra.locator.GossipingPropertyFileSnitch" },
	})
}

// The view queries below run with mu held. Lists are sorted by address.

// joined is StorageService.Joined: the node took its tokens.
func (n *Node) joined() bool {
	switch n.mode {
	case ModeNormal, ModeLeaving, ModeMoving, ModeDecommissioned, ModeDraining, ModeDecommissionFailed:
		return true
	}
	return false
}

func (n *Node) liveNodes(port string) []string {
	out := []string{n.cfg.IP + port}
	for _, e := range n.view.members() {
		if e.hostID != n.hostID && n.view.fd[e.hostID] == liveUp {
			out = append(out, e.addr+port)
		}
	}
	return sortAddrs(out)
}

// unreachableNodes are the members the node's failure detector has down,
// and the nodes that LEFT (decommissioned) and stopped gossiping: Cassandra
// keeps a LEFT node's gossip state for three days, and once the node is
// silent the failure detector convicts it and lists it here again,
// although it owns no token any more (seen on real 5.0 nodes; the
// conformance test of test/env checks it).
func (n *Node) unreachableNodes(port string) []string {
	out := []string{}
	for _, e := range n.view.members() {
		if e.hostID != n.hostID && n.view.fd[e.hostID] == liveDown {
			out = append(out, e.addr+port)
		}
	}
	for _, e := range n.view.eps {
		if e.status == statusLeft && e.hostID != n.hostID && !n.sim.gossiping(e.hostID) && !n.view.leftUnseen[e.hostID] {
			out = append(out, e.addr+port)
		}
	}
	return sortAddrs(out)
}

func (n *Node) withStatus(st status, port string) []string {
	out := []string{}
	for _, e := range n.view.members() {
		if e.status == st {
			out = append(out, e.addr+port)
		}
	}
	return sortAddrs(out)
}

func (n *Node) hostIDMap(port string) map[string]string {
	out := map[string]string{}
	for _, e := range n.view.members() {
		out[e.addr+port] = e.hostID
	}
	return out
}

// loadMap is StorageService.LoadMap: the node's own load and the load
// every member broadcast (down ones keep theirs, as LoadBroadcaster does),
// written as FileUtils.stringifyFileSize writes sizes ("119.84 KiB").
// A node learns the others' loads from their gossip state (LOAD), so its
// view's members have theirs, and so have the LEFT nodes it first learned
// already gone (view.leftUnseen; both checked against a real 5.0 node by
// test/env's conformance test).
func (n *Node) loadMap(port string) map[string]string {
	out := map[string]string{n.cfg.IP + port: stringifySize(loadOf(n.hostID))}
	for _, e := range n.view.members() {
		out[e.addr+port] = stringifySize(loadOf(e.hostID))
	}
	for id := range n.view.leftUnseen {
		if e := n.view.eps[id]; e != nil {
			out[e.addr+port] = stringifySize(loadOf(id))
		}
	}
	return out
}

// loadOf is a member's simulated load: between 100 and 164 KiB, fixed by
// its host ID (the simulator holds no data).
func loadOf(hostID string) int64 {
	var h int64
	for _, c := range hostID {
		h = (h*31 + int64(c)) % (64 << 10)
	}
	return 100<<10 + h
}

// stringifySize writes bytes as Cassandra's FileUtils.stringifyFileSize.
func stringifySize(b int64) string {
	const kib, mib, gib, tib = 1 << 10, 1 << 20, 1 << 30, 1 << 40
	switch {
	case b >= tib:
		return fmt.Sprintf("%.2f TiB", float64(b)/tib)
	case b >= gib:
		return fmt.Sprintf("%.2f GiB", float64(b)/gib)
	case b >= mib:
		return fmt.Sprintf("%.2f MiB", float64(b)/mib)
	case b >= kib:
		return fmt.Sprintf("%.2f KiB", float64(b)/kib)
	}
	return fmt.Sprintf("%d bytes", b)
}

func (n *Node) schemaVersion() string {
	if self := n.view.eps[n.hostID]; self != nil {
		return self.schema
	}
	return n.sim.schemaOf(n.schemaKey())
}

// schemaVersions is StorageProxy.SchemaVersions: the version of each
// reachable member, the unreachable ones under "UNREACHABLE".
func (n *Node) schemaVersions(port string) map[string][]string {
	out := map[string][]string{n.schemaVersion(): {n.cfg.IP + port}}
	for _, e := range n.view.members() {
		switch {
		case e.hostID == n.hostID:
		case n.view.fd[e.hostID] == liveUp:
			out[e.schema] = append(out[e.schema], e.addr+port)
		case n.view.fd[e.hostID] == liveDown:
			out["UNREACHABLE"] = append(out["UNREACHABLE"], e.addr+port)
		}
	}
	for k, v := range out {
		out[k] = sortAddrs(v)
	}
	return out
}

// simpleStates is FailureDetector.SimpleStates: keys as InetAddress.toString
// gives them ("/127.0.0.1"), or "127.0.0.1:7000" with port.
func (n *Node) simpleStates(withPort bool) map[string]string {
	key := func(addr string) string {
		if withPort {
			return addr + storagePort
		}
		return "/" + addr
	}
	out := map[string]string{key(n.cfg.IP): "UP"}
	for _, e := range n.view.members() {
		if e.hostID == n.hostID {
			continue
		}
		state := "DOWN"
		if n.view.fd[e.hostID] == liveUp {
			state = "UP"
		}
		out[key(e.addr)] = state
	}
	return out
}

func countValues(m map[string]string, v string) int {
	c := 0
	for _, x := range m {
		if x == v {
			c++
		}
	}
	return c
}

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// sortAddrs sorts "ip" or "ip:port" strings by IP.
func sortAddrs(a []string) []string {
	sort.Slice(a, func(i, j int) bool {
		x, _, _ := strings.Cut(a[i], ":")
		y, _, _ := strings.Cut(a[j], ":")
		if x != y {
			return addrLess(x, y)
		}
		return a[i] < a[j]
	})
	return a
}

// userKeyspaceNames lists the user keyspaces, sorted.
func (s *Sim) userKeyspaceNames() []string {
	out := []string{}
	for _, k := range s.opts.Keyspaces {
		out = append(out, k.Name)
	}
	slices.Sort(out)
	return out
}
