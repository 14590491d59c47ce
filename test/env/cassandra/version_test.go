package cassandra

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// ringopsHealth are the StorageService attributes ringops reads in one
// multi-attribute read: they exist in every version.
var ringopsHealth = []string{"LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes", "MovingNodes",
	"OperationMode", "EndpointToHostId", "ReleaseVersion", "SchemaVersion", "NativeTransportRunning"}

func multiRead(attrs ...string) map[string]any {
	return map[string]any{"type": "read", "mbean": StorageServiceMBean, "attribute": attrs}
}

// TestVersionProfiles: each release line answers with its own MBean
// surface (reference: StorageServiceMBean.java of 3.11.17, 4.1.7, 5.0.1).
func TestVersionProfiles(t *testing.T) {
	for i, tt := range []struct {
		release             string
		version             Version
		hostIDMap, withPort bool
	}{
		{"3.11.17", Version311, true, false},
		{"4.1.7", Version41, true, true},
		{"5.0.9", Version50, false, true},
	} {
		t.Run(tt.release, func(t *testing.T) {
			opts := testOptions()
			opts.ReleaseVersion = tt.release
			w := newWorld(t, opts)
			a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(60+i, 1), "dc1", "r1", "orders-dc1-r1-0"))
			if a.Version() != tt.version || a.ReleaseVersion() != tt.release {
				t.Errorf("node runs %s (%s), want %s (%s)", a.Version(), a.ReleaseVersion(), tt.version, tt.release)
			}
			var rel string
			if err := agentOf(a).read(StorageServiceMBean, "ReleaseVersion", &rel); err != nil || rel != tt.release {
				t.Errorf("ReleaseVersion %q %v", rel, err)
			}

			r, err := agentOf(a).one(multiRead(ringopsHealth...))
			if err != nil || r.Status != 200 {
				t.Fatalf("ringops' health read: status %d %s %v", r.Status, r.Error, err)
			}
			var v struct {
				EndpointToHostId       map[string]string
				SchemaVersion          string
				NativeTransportRunning bool
			}
			if err := decodeValue(r, &v); err != nil || v.EndpointToHostId[a.cfg.IP] != a.HostID() || v.SchemaVersion == "" {
				t.Errorf("health read value %+v %v", v, err)
			}

			r, err = agentOf(a).one(multiRead("OperationMode", "HostIdMap", "ReleaseVersion"))
			switch {
			case err != nil:
				t.Fatal(err)
			case tt.hostIDMap && r.Status != 200:
				t.Errorf("read naming HostIdMap on %s: status %d %s", tt.release, r.Status, r.Error)
			case !tt.hostIDMap:
				// The real agent fails the whole multi-attribute read.
				wantJMXError(t, "read naming HostIdMap on "+tt.release, r, "javax.management.AttributeNotFoundException", "No such attribute: HostIdMap")
				if r.Status != 404 {
					t.Errorf("status %d, want 404", r.Status)
				}
			}
			r, _ = agentOf(a).one(readReq(StorageServiceMBean, "LiveNodesWithPort"))
			if (r.Status == 200) != tt.withPort {
				t.Errorf("LiveNodesWithPort on %s: status %d", tt.release, r.Status)
			}
		})
	}
}

func decodeValue(r response, out any) error {
	if r.Status != 200 {
		return fmt.Errorf("status %d: %s", r.Status, r.Error)
	}
	return json.Unmarshal(r.Value, out)
}

func TestDefaultVersionIs50(t *testing.T) {
	if v, err := VersionOf(DefaultOptions().ReleaseVersion); err != nil || v != Version50 {
		t.Errorf("default release %q is %v (%v), want 5.0", DefaultOptions().ReleaseVersion, v, err)
	}
	for rel, want := range map[string]Version{"3.11.17": Version311, "3.0.30": Version311, "4.0.14": Version41,
		"4.1.7": Version41, "5.0.1": Version50, "5.0-rc1": Version50, "5.1": Version50} {
		if got, err := VersionOf(rel); err != nil || got != want {
			t.Errorf("VersionOf(%q) = %v, %v; want %v", rel, got, err, want)
		}
	}
	for _, bad := range []string{"", "five", "x.1"} {
		if _, err := VersionOf(bad); err == nil {
			t.Errorf("VersionOf(%q): no error", bad)
		}
	}
	w := newWorld(t, testOptions())
	cfg := w.cfg("pvc-a", "orders-dc1-r1-0", ip(63, 1), "dc1", "r1", "orders-dc1-r1-0")
	cfg.ReleaseVersion = "latest"
	if _, err := w.sim.Start(context.Background(), cfg); !errors.Is(err, ErrInvalidConfig) {
		t.Errorf("release %q: got %v, want ErrInvalidConfig", cfg.ReleaseVersion, err)
	}
}

// TestMixedReleaseVersions: a node restarted on a new image reports the new
// version and the new surface; the others keep theirs.
func TestMixedReleaseVersions(t *testing.T) {
	opts := testOptions()
	opts.ReleaseVersion = "4.1.7"
	w := newWorld(t, opts)
	const subnet = 64
	a, b, c := threeNodes(t, w, subnet)
	c.Stop()
	cfg := w.cfg("pvc-c", "orders-dc2-r1-0", c.cfg.IP, "dc2", "r1", "orders-dc1-r1-0")
	cfg.ReleaseVersion = "5.0.9"
	c = w.start(cfg)
	// The 5.0 node reports a schema version of its own until every node
	// runs 5.0 (release.go): the ring is whole, on two schema versions.
	whole := func(h health) error {
		var alone []string
		for _, eps := range h.Schemas {
			if len(eps) == 1 {
				alone = eps
			}
		}
		if len(h.Schemas) != 2 || sameSet(alone, []string{c.cfg.IP}) != nil {
			return fmt.Errorf("schemas %v, want one for %s alone", h.Schemas, c.cfg.IP)
		}
		h.Schemas = map[string][]string{"": nil}
		return healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP)(h)
	}
	for _, n := range []*Node{a, b, c} {
		healthIs(t, "ring whole from "+n.cfg.IP, agentOf(n), whole)
	}
	want := map[*Node]string{a: "4.1.7", b: "4.1.7", c: "5.0.9"}
	for n, rel := range want {
		var got string
		if err := agentOf(n).read(StorageServiceMBean, "ReleaseVersion", &got); err != nil || got != rel {
			t.Errorf("%s: ReleaseVersion %q %v, want %s", n.cfg.Pod, got, err, rel)
		}
		r, _ := agentOf(n).one(readReq(StorageServiceMBean, "HostIdMap"))
		if (r.Status == 200) != (rel == "4.1.7") {
			t.Errorf("%s (%s): HostIdMap status %d", n.cfg.Pod, rel, r.Status)
		}
	}
}

// TestNativeTransportFollowsNormal: NORMAL comes first, CQL after
// NativeTransportDelay; a joining node does not serve, a decommissioned
// one no longer does; disablebinary stops it.
func TestNativeTransportFollowsNormal(t *testing.T) {
	opts := testOptions()
	opts.NativeTransportDelay = 2 * time.Second
	w := newWorld(t, opts)
	const subnet = 65
	cqlOf := func(n *Node) bool {
		var on bool
		if err := agentOf(n).read(StorageServiceMBean, "NativeTransportRunning", &on); err != nil {
			t.Fatalf("%s: %v", n.cfg.Pod, err)
		}
		return on
	}
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	if m := a.Mode(); m != "NORMAL" || cqlOf(a) {
		t.Fatalf("seed just started: mode %s, CQL %v; want NORMAL without CQL", m, cqlOf(a))
	}
	eventually(t, "a serves CQL", func() error {
		if !cqlOf(a) {
			return errors.New("not yet")
		}
		return nil
	})

	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2", "orders-dc1-r1-0")
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{NeverFinishJoining: true})
	b := w.start(cfgB)
	time.Sleep(opts.NativeTransportDelay + 100*time.Millisecond)
	if m := b.Mode(); m != "JOINING" || cqlOf(b) {
		t.Errorf("joining node: mode %s, CQL %v; want JOINING without CQL", m, cqlOf(b))
	}
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{})
	eventually(t, "b serves CQL after bootstrap", func() error {
		if b.Mode() != "NORMAL" || !cqlOf(b) {
			return fmt.Errorf("mode %s CQL %v", b.Mode(), cqlOf(b))
		}
		return nil
	})

	a.SetNativeTransport(false)
	if cqlOf(a) || a.NativeTransportRunning() {
		t.Error("disablebinary: still serving")
	}
	a.SetNativeTransport(true)
	if !cqlOf(a) {
		t.Error("enablebinary: not serving")
	}

	c := w.start(w.cfg("pvc-c", "orders-dc2-r1-0", ip(subnet, 3), "dc2", "r1", "orders-dc1-r1-0"))
	healthIs(t, "c joined", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
	c.SetNativeTransport(true) // skip the delay
	if r := <-execAsync(agentOf(c), execReq("decommission(boolean)", true)); r.Status != 200 {
		t.Fatalf("decommission: %d %s", r.Status, r.Error)
	}
	if m := c.Mode(); m != "DECOMMISSIONED" || cqlOf(c) {
		t.Errorf("decommissioned node: mode %s, CQL %v", m, cqlOf(c))
	}
}

// TestSeedNamesResolveAtStartOnly: seeds are resolved as SimpleSeedProvider
// does, by the whole name, at start and at the shadow round only.
func TestSeedNamesResolveAtStartOnly(t *testing.T) {
	opts := testOptions()
	opts.SeedTimeout = 800 * time.Millisecond
	w := newWorld(t, opts)
	const subnet = 66

	// No name resolves: the start aborts at once.
	cfg := w.cfg("pvc-x", "orders-dc1-r1-0", ip(subnet, 9), "dc1", "r1")
	cfg.Seeds = []string{"orders-dc1-r1-0.elsewhere.example.com", "nobody.orders.cassandra.svc.cluster.local"}
	began := time.Now()
	_, err := w.sim.Start(context.Background(), cfg)
	if !errors.Is(err, ErrNoSeedsListed) || !strings.Contains(err.Error(), "The seed provider lists no seeds.") {
		t.Fatalf("unresolvable seeds: got %v, want ErrNoSeedsListed", err)
	}
	if d := time.Since(began); d >= opts.SeedTimeout {
		t.Errorf("the abort took %s, not at once", d)
	}

	// The whole name counts: the pod's name under another domain is not it.
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(subnet, 1), "dc1", "r1", "orders-dc1-r1-0"))
	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(subnet, 2), "dc1", "r2")
	cfgB.Seeds = []string{"orders-dc1-r1-0.dc1.orders.db.example.com"}
	if _, err := w.sim.Start(context.Background(), cfgB); !errors.Is(err, ErrNoSeedsListed) {
		t.Errorf("seed under another dnsDomain: got %v, want ErrNoSeedsListed", err)
	}

	// Resolved once for the shadow round: the name moving to the seed
	// while the node tries does not help.
	const seedName = "moving-seed.orders.cassandra.svc.cluster.local"
	w.dns.set(seedName, ip(subnet, 8)) // nothing runs there
	cfgC := w.cfg("pvc-c", "orders-dc1-r3-0", ip(subnet, 3), "dc1", "r3")
	cfgC.Seeds = []string{seedName}
	errc := make(chan error, 1)
	go func() { _, err := w.sim.Start(context.Background(), cfgC); errc <- err }()
	time.Sleep(opts.StartupTime + 300*time.Millisecond)
	w.dns.set(seedName, a.cfg.IP)
	if err := <-errc; !errors.Is(err, ErrNoSeeds) {
		t.Errorf("seed name moved during the shadow round: got %v, want ErrNoSeeds", err)
	}

	// Running nodes never resolve again: a new seed behind the name is
	// not found by a node that started before.
	w.dns.set(seedName, a.cfg.IP)
	d := w.start(cfgC)
	healthIs(t, "d joined a", agentOf(a), healthy(a.cfg.IP, d.cfg.IP))
	e := w.start(w.cfg("pvc-e", "orders-dc2-r1-0", ip(subnet, 5), "dc2", "r1", "orders-dc2-r1-0"))
	w.dns.set(seedName, e.cfg.IP)
	time.Sleep(1500 * time.Millisecond)
	var live []string
	if err := agentOf(e).read(StorageServiceMBean, "LiveNodes", &live); err != nil || !slices.Equal(live, []string{e.cfg.IP}) {
		t.Errorf("new seed behind the old name: live %v %v, want itself alone", live, err)
	}
}
