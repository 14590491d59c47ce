package cassandra

import (
	"maps"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sim is a set of simulated Cassandra rings, one per cluster name, spanning
// every region of the local world. It is safe for concurrent use.
type Sim struct {
	opts    Options
	resolve Resolver

	mu        sync.Mutex
	closed    bool
	nodes     map[string]*Node // running processes by IP
	byKey     map[string]*Node // running processes by Key
	disks     map[string]*disk // persisted node data by Key
	cut       map[[2]string]bool
	podFaults map[string]Faults // armed faults by "namespace/pod"
	genSeq    int64
	schemas   map[string]string              // cluster name -> agreed schema version
	ksSchemas *schemaEpochs                  // keyspaces and schema changes (cqlschema.go)
	roles     map[string]map[string]*CQLRole // cluster name -> system_auth.roles (cqlroles.go)

	quit chan struct{}
	wg   sync.WaitGroup
}

// disk is what a node keeps on its volume (system keyspace): identity,
// tokens, bootstrap state and the peers it last knew.
type disk struct {
	key, cluster, dc, rack string
	hostID                 string
	tokens                 []string
	bootstrapped           bool   // bootstrap completed (or a seed start)
	joinedAs               string // JoinedByBootstrap or JoinedAsSeed, "" before
	decommissioned         bool
	removed                bool // removed by another node's removeNode
	joined                 bool // took part in gossip at least once
	peers                  []*endpoint
	last                   *endpoint // own last gossip state
	cfg                    NodeConfig
	format                 string         // the sstable format the node writes (release.go)
	old                    map[string]int // sstables on an older format, by keyspace
	// available are the ranges streamed in, by keyspace
	// (system.available_ranges_v2; available.go).
	available map[string]map[tokenRange]bool
}

// NodeStatus is the ground truth about one ring member, for tests.
type NodeStatus struct {
	Key, Namespace, Pod, Region string
	Address                     string // current (or last) IP
	HostID                      string
	DC, Rack                    string
	// Status is the gossip status the node announces: "NORMAL", "JOINING"
	// or "LEAVING".
	Status string
	// Mode is the OperationMode of its running process, "" when none runs.
	Mode string
	// Alive is true when a process runs and gossips.
	Alive bool
	// JoinedAs is how the node joined the ring from an empty volume:
	// JoinedByBootstrap, or JoinedAsSeed (no data streamed).
	JoinedAs string
}

// How a node joined the ring from an empty volume (NodeStatus.JoinedAs).
const (
	// JoinedByBootstrap: it announced BOOT, streamed its ranges (JOINING),
	// then turned NORMAL.
	JoinedByBootstrap = "bootstrap"
	// JoinedAsSeed: it was in its own seed list, so it skipped the
	// bootstrap and turned NORMAL at once, owning ranges with none of their
	// data, as Cassandra does (StorageService.shouldBootstrap).
	JoinedAsSeed = "seed"
	// JoinedByReplace: it replaced a dead node
	// (replace_address_first_boot): it took over that node's tokens and
	// streamed their data.
	JoinedByReplace = "replace"
)

// New starts a simulation; Close stops it. resolve may be nil: seeds are
// then plain IPs.
func New(opts Options, resolve Resolver) *Sim {
	s := &Sim{
		opts:      opts.withDefaults(),
		resolve:   resolve,
		nodes:     map[string]*Node{},
		byKey:     map[string]*Node{},
		disks:     map[string]*disk{},
		cut:       map[[2]string]bool{},
		podFaults: map[string]Faults{},
		schemas:   map[string]string{},
		quit:      make(chan struct{}),
	}
	s.wg.Add(1)
	go s.loop()
	return s
}

// Close kills every node, closes every Jolokia listener and stops gossip.
// Start fails with ErrClosed afterwards.
func (s *Sim) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.quit)
	running := slices.Collect(maps.Values(s.nodes))
	s.mu.Unlock()
	for _, n := range running {
		n.Kill()
	}
	s.wg.Wait()
}

// Partition cuts the network between the IPs of group a and those of group
// b: they cannot gossip with each other. Partitions add up until Heal.
func (s *Sim) Partition(a, b []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range a {
		for _, y := range b {
			if x != y {
				s.cut[pair(x, y)] = true
			}
		}
	}
}

// Heal removes every partition.
func (s *Sim) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.cut)
}

func pair(a, b string) [2]string {
	if a > b {
		a, b = b, a
	}
	return [2]string{a, b}
}

// NodeAt returns the running node (process) at an IP.
func (s *Sim) NodeAt(ip string) (*Node, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.nodes[ip]
	return n, ok
}

// Ring returns the ground truth of a ring: every node that joined and has
// not left (decommissioned or removed), sorted by address.
func (s *Sim) Ring(clusterName string) []NodeStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []NodeStatus
	for _, d := range s.disks {
		if d.cluster != clusterName || !d.joined || d.decommissioned || d.removed || d.last == nil {
			continue
		}
		if !d.bootstrapped && s.byKey[d.key] == nil {
			continue // a dead bootstrapping node owns nothing
		}
		st := NodeStatus{
			Key: d.key, Namespace: d.cfg.Namespace, Pod: d.cfg.Pod, Region: d.cfg.Region,
			Address: d.last.addr, HostID: d.hostID, DC: d.dc, Rack: d.rack,
			Status: publicStatus(d.last.status), JoinedAs: d.joinedAs,
		}
		if n := s.byKey[d.key]; n != nil {
			st.Mode = n.mode.String()
			st.Alive = n.gossiping
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return addrLess(out[i].Address, out[j].Address) })
	return out
}

func publicStatus(st status) string {
	if st == statusBoot {
		return "JOINING"
	}
	return st.String()
}

func addrLess(a, b string) bool {
	x, errA := netip.ParseAddr(a)
	y, errB := netip.ParseAddr(b)
	if errA != nil || errB != nil {
		return a < b
	}
	return x.Less(y)
}

// schemaOf returns the agreed schema version of a cluster.
func (s *Sim) schemaOf(cluster string) string {
	v, ok := s.schemas[cluster]
	if !ok {
		v = nameUUID("schema/" + cluster)
		s.schemas[cluster] = v
	}
	return v
}

// loop runs gossip rounds until Close.
func (s *Sim) loop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.GossipInterval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
		}
		s.mu.Lock()
		now := time.Now()
		for _, n := range s.sortedNodes() {
			n.tick(now)
		}
		s.gossipRound()
		s.schemaRound()
		s.mu.Unlock()
	}
}

// sortedNodes returns the running nodes by IP (mu held).
func (s *Sim) sortedNodes() []*Node {
	out := slices.Collect(maps.Values(s.nodes))
	sort.Slice(out, func(i, j int) bool { return addrLess(out[i].cfg.IP, out[j].cfg.IP) })
	return out
}

// gossipRound lets every gossiping node exchange state with every peer it
// knows of (members of its view and its seeds) and can reach (mu held).
func (s *Sim) gossipRound() {
	now := time.Now()
	for _, n := range s.sortedNodes() {
		if !n.gossiping {
			continue
		}
		n.view.evictFatClients(s.opts.FatClientTimeout, now)
		targets := append(n.view.targets(n.hostID), n.seedIPs...)
		slices.Sort(targets)
		for _, addr := range slices.Compact(targets) {
			if addr == n.cfg.IP {
				continue
			}
			if p := s.nodes[addr]; s.contactable(n, p) {
				exchange(n, p)
			} else {
				n.view.markAddr(n.hostID, addr, "")
			}
		}
	}
}

// contactable reports whether n can gossip with p (mu held).
func (s *Sim) contactable(n, p *Node) bool {
	return p != nil && p != n && p.running && p.gossiping &&
		p.cfg.ClusterName == n.cfg.ClusterName && !s.cut[pair(n.cfg.IP, p.cfg.IP)]
}

// exchange is one gossip exchange (SYN, ACK, ACK2): both views end with the
// newest state of every endpoint and see each other up.
func exchange(n, p *Node) {
	n.view.merge(n.hostID, p.hostID, p.view)
	p.view.merge(p.hostID, n.hostID, n.view)
	n.view.markAddr(n.hostID, p.cfg.IP, p.hostID)
	p.view.markAddr(p.hostID, n.cfg.IP, n.hostID)
}

// resolveSeeds maps seed names to IPs as SimpleSeedProvider does: each
// whole name through the Resolver of the node's region, or as a literal IP; a name that does not
// resolve is skipped. The result is sorted. The Resolver is called without
// the lock.
func (s *Sim) resolveSeeds(region string, seeds []string) []string {
	var out []string
	for _, name := range seeds {
		if s.resolve != nil {
			if ip, ok := s.resolve(region, name); ok {
				out = append(out, ip)
				continue
			}
		}
		if _, err := netip.ParseAddr(name); err == nil {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// cleanSeeds splits entries on commas (CASSANDRA_SEEDS may be passed
// whole), trims and drops empty seed names.
func cleanSeeds(seeds []string) []string {
	var out []string
	for _, entry := range seeds {
		for _, s := range strings.Split(entry, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// gossiping reports whether a running node with this host ID gossips (mu
// held).
func (s *Sim) gossiping(hostID string) bool {
	for _, n := range s.nodes {
		if n.hostID == hostID && n.gossiping {
			return true
		}
	}
	return false
}
