package cassandra

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"
)

func TestJolokiaDelay(t *testing.T) {
	w := newWorld(t, testOptions())
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(20, 1), "dc1", "r1", "orders-dc1-r1-0"))
	a.SetJolokiaDelay(time.Minute)
	impatient := agentOf(a)
	impatient.client = newClient(200 * time.Millisecond)
	if _, err := impatient.mode(); err == nil {
		t.Fatal("a client with a short timeout got an answer from a delayed agent")
	}
	a.SetJolokiaDelay(0)
	if m, err := impatient.mode(); err != nil || m != "NORMAL" {
		t.Fatalf("after the delay is lifted: %q %v", m, err)
	}
}

func TestRefuseJolokia(t *testing.T) {
	w := newWorld(t, testOptions())
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(21, 1), "dc1", "r1", "orders-dc1-r1-0"))
	a.RefuseJolokia(true)
	if _, err := agentOf(a).mode(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("refusing agent: got %v, want connection refused", err)
	}
	a.RefuseJolokia(false)
	if m, err := agentOf(a).mode(); err != nil || m != "NORMAL" {
		t.Fatalf("agent open again: %q %v", m, err)
	}
	// Armed for a pod before it starts: the node never listens.
	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(21, 2), "dc1", "r2", "orders-dc1-r1-0")
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{RefuseJolokia: true})
	b := w.start(cfgB)
	if _, err := agentOf(b).mode(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("armed refusal: got %v, want connection refused", err)
	}
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{})
	eventually(t, "b answers", func() error { _, err := agentOf(b).mode(); return err })
}

func TestNeverFinishJoining(t *testing.T) {
	w := newWorld(t, testOptions())
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(22, 1), "dc1", "r1", "orders-dc1-r1-0"))
	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(22, 2), "dc1", "r2", "orders-dc1-r1-0")
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{NeverFinishJoining: true})
	b := w.start(cfgB)
	// Several bootstrap times later it still joins.
	time.Sleep(4 * w.sim.opts.BootstrapTime)
	h, err := agentOf(a).health()
	if err != nil || sameSet(h.Joining, []string{b.cfg.IP}) != nil {
		t.Fatalf("joining nodes seen by a: %v %v", h.Joining, err)
	}
	if m, _ := agentOf(b).mode(); m != "JOINING" {
		t.Fatalf("b mode %s, want JOINING", m)
	}
	b.NeverFinishJoining(false)
	healthIs(t, "b normal", agentOf(a), healthy(a.cfg.IP, b.cfg.IP))
}

// A node killed while bootstrapping owns nothing: after the fat-client
// timeout the others forget it and another node may bootstrap.
func TestDeadJoiningNodeIsEvicted(t *testing.T) {
	w := newWorld(t, testOptions())
	a := w.start(w.cfg("pvc-a", "orders-dc1-r1-0", ip(25, 1), "dc1", "r1", "orders-dc1-r1-0"))
	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(25, 2), "dc1", "r2", "orders-dc1-r1-0")
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{NeverFinishJoining: true})
	b := w.start(cfgB)
	healthIs(t, "b joining", agentOf(a), func(h health) error { return sameSet(h.Joining, []string{b.cfg.IP}) })
	b.Kill()
	healthIs(t, "b joining and down", agentOf(a), func(h health) error {
		if err := sameSet(h.Joining, []string{b.cfg.IP}); err != nil {
			return err
		}
		return sameSet(h.Unreachable, []string{b.cfg.IP})
	})
	healthIs(t, "b evicted", agentOf(a), healthy(a.cfg.IP))
	if got := len(w.sim.Ring("orders")); got != 1 {
		t.Errorf("ground truth: %d nodes, want 1", got)
	}
	// Its volume is gone: a new node takes its place and bootstraps.
	w.sim.SetPodFaults(cfgB.Namespace, cfgB.Pod, Faults{})
	c := w.start(w.cfg("pvc-c", "orders-dc1-r2-0", ip(25, 3), "dc1", "r2", "orders-dc1-r1-0"))
	healthIs(t, "c joined", agentOf(a), healthy(a.cfg.IP, c.cfg.IP))
}

func TestSchemaDisagreement(t *testing.T) {
	w := newWorld(t, testOptions())
	a, b, c := threeNodes(t, w, 23)
	other := newUUID()
	c.SetSchemaVersion(other)
	h := healthIs(t, "two schema versions seen by a", agentOf(a), func(h health) error {
		if len(h.Schemas) != 2 || len(h.Schemas[other]) != 1 || h.Schemas[other][0] != c.cfg.IP {
			return fmt.Errorf("schemas %v", h.Schemas)
		}
		return nil
	})
	var mine string
	if err := agentOf(b).read(StorageServiceMBean, "SchemaVersion", &mine); err != nil || len(h.Schemas[mine]) != 2 {
		t.Errorf("b's schema %q not the majority in %v (%v)", mine, h.Schemas, err)
	}
	c.SetSchemaVersion("")
	healthIs(t, "agreement again", agentOf(a), healthy(a.cfg.IP, b.cfg.IP, c.cfg.IP))
}

func TestBasicAuth(t *testing.T) {
	w := newWorld(t, testOptions())
	cfg := w.cfg("pvc-a", "orders-dc1-r1-0", ip(24, 1), "dc1", "r1", "orders-dc1-r1-0")
	cfg.JolokiaUser, cfg.JolokiaPassword = "monitor", "s3cret"
	a := w.start(cfg)
	anon := agentOf(a)
	if _, err := anon.mode(); err == nil || err.Error() != "HTTP 401" {
		t.Fatalf("without credentials: %v, want HTTP 401", err)
	}
	wrong := agentOf(a)
	wrong.user, wrong.pass = "monitor", "nope"
	if _, err := wrong.mode(); err == nil {
		t.Fatal("wrong password accepted")
	}
	good := agentOf(a)
	good.user, good.pass = "monitor", "s3cret"
	if m, err := good.mode(); err != nil || m != "NORMAL" {
		t.Fatalf("with credentials: %q %v", m, err)
	}
}
