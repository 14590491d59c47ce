package jolokia_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/test/env/cassandra"
)

// restartOn restarts a node of the ring on another Cassandra release.
func (r *simRing) restartOn(pod, release string) {
	r.t.Helper()
	p := r.procs[pod]
	cfg := p.Config()
	p.Stop()
	cfg.ReleaseVersion = release
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	np, err := r.sim.Start(ctx, cfg)
	if err != nil {
		r.t.Fatalf("restart %s on %s: %v", pod, release, err)
	}
	r.procs[pod] = np
}

// TestSimDecommissionWithASerialAgent: the node's agent serves one request
// at a time (the Jolokia JVM agent's default), so the node cannot be read
// while a decommission call is open. Decommission sends the operation and
// returns within its short timeout; the decommission is followed from the
// other nodes' views: leaving, then gone.
func TestSimDecommissionWithASerialAgent(t *testing.T) {
	o := fastSimOptions()
	o.DecommissionTime = 2 * time.Second
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 3, PerRack: 2, Options: o})
	c := newClient(nil, 300*time.Millisecond)
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	leaver := r.nodes[len(r.nodes)-1]
	r.procs[leaver.Pod].SerialJolokia(true)

	ops := jolokia.NewOperations(c, jolokia.OperationOptions{ExecTimeout: 200 * time.Millisecond, Force: true})
	if err := ops.Decommission(context.Background(), leaver); err != nil {
		t.Fatalf("decommission: %v", err)
	}
	if m := r.procs[leaver.Pod].Mode(); m == "DECOMMISSIONED" {
		t.Errorf("Decommission held the call open until the node was %s", m)
	}
	others := ring.Expected{Nodes: r.nodes[:len(r.nodes)-1], Extra: r.nodes[len(r.nodes)-1:]}
	waitResult(t, c, others, "the others have it leaving, the node does not answer", func(res ring.Result) bool {
		_, err := c.ReadView(context.Background(), leaver)
		l := reasonsOf(res, ring.NodeLeaving)
		return len(l) == 0 && len(reasonsOf(res, ring.UnknownNode)) == 1 && errors.Is(err, jolokia.ErrTimeout)
	})
	waitResult(t, c, others, "gone from every other view", func(res ring.Result) bool { return res.Healthy })
	eventually(t, "DECOMMISSIONED", func() (bool, string) {
		m := r.procs[leaver.Pod].Mode()
		return m == "DECOMMISSIONED", m
	})
}

// TestSimDecommissionRetries: a failed decommission is retried as each
// version allows: 3.11 and 4.x from LEAVING, 5.0 from
// DECOMMISSION_FAILED; meanwhile no other node may start leaving.
func TestSimDecommissionRetries(t *testing.T) {
	for _, release := range []string{"3.11.17", "4.1.5", "5.0.1"} {
		t.Run(release, func(t *testing.T) {
			o := fastSimOptions()
			o.ReleaseVersion = release
			r := startSimRing(t, ringSpec{DCs: 1, Racks: 3, PerRack: 2, Options: o})
			c := newClient(nil, 2*time.Second)
			exp := ring.Expected{Nodes: r.nodes}
			waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
			ops := jolokia.NewOperations(c, jolokia.OperationOptions{ExecTimeout: 5 * time.Second, Force: true})
			leaver := r.nodes[len(r.nodes)-1]
			r.procs[leaver.Pod].FailDecommission(true)
			if err := ops.Decommission(context.Background(), leaver); !errors.Is(err, jolokia.ErrDecommissionFailed) {
				t.Fatalf("failing decommission (answered within the timeout): %v", err)
			}
			want := map[string]string{"3.11.17": "LEAVING", "4.1.5": "LEAVING", "5.0.1": "DECOMMISSION_FAILED"}[release]
			if m := r.procs[leaver.Pod].Mode(); m != want {
				t.Fatalf("mode after the failure: %s, want %s", m, want)
			}
			if err := ops.Decommission(context.Background(), r.nodes[0]); !errors.Is(err, jolokia.ErrRingBusy) {
				t.Errorf("another node: %v, want ErrRingBusy", err)
			}
			r.procs[leaver.Pod].FailDecommission(false)
			if err := ops.Decommission(context.Background(), leaver); err != nil {
				t.Fatalf("retry: %v", err)
			}
			waitResult(t, c, ring.Expected{Nodes: r.nodes[:len(r.nodes)-1]}, "healthy without it", func(res ring.Result) bool { return res.Healthy })
			if n := r.procs[leaver.Pod].Overlaps(); n != 0 {
				t.Errorf("%d decommissions ran at once", n)
			}
		})
	}
}

// TestSimResumeBootstrap: a failed bootstrap (4.x JOINING, 5.0
// JOINING_FAILED) shows no stream in ReadProgress; ResumeBootstrap streams
// again and the node turns NORMAL.
func TestSimResumeBootstrap(t *testing.T) {
	for _, release := range []string{"4.1.5", "5.0.1"} {
		t.Run(release, func(t *testing.T) {
			o := fastSimOptions()
			o.ReleaseVersion = release
			o.BootstrapTime = 300 * time.Millisecond
			r := startSimRing(t, ringSpec{DCs: 1, Racks: 2, PerRack: 1, Options: o})
			c := newClient(nil, 2*time.Second)
			ops := jolokia.NewOperations(c, jolokia.OperationOptions{})
			joiner := r.node(1, 3, 0)
			r.sim.SetPodFaults(joiner.Namespace, joiner.Pod, cassandra.Faults{FailBootstrap: true})
			r.start(joiner, r.seeds())
			want := map[string]ring.OperationMode{"4.1.5": ring.ModeJoining, "5.0.1": ring.ModeJoiningFailed}[release]
			eventually(t, "the bootstrap failed", func() (bool, string) {
				v, err := c.ReadView(context.Background(), joiner)
				p, perr := ops.ReadProgress(context.Background(), joiner)
				if err != nil || perr != nil {
					return false, fmt.Sprint(err, perr)
				}
				return v.Mode == want && p.StreamsKnown && len(p.Streams) == 0, fmt.Sprintf("%s %+v", v.Mode, p)
			})
			if err := ops.ResumeBootstrap(context.Background(), r.nodes[0]); !errors.Is(err, jolokia.ErrResumeFailed) {
				t.Errorf("resume of a NORMAL node: %v", err)
			}
			r.procs[joiner.Pod].FailBootstrap(false)
			if err := ops.ResumeBootstrap(context.Background(), joiner); err != nil {
				t.Fatalf("resume: %v", err)
			}
			if p, err := ops.ReadProgress(context.Background(), joiner); err != nil || len(p.Streams) != 1 || p.Streams[0].Description != "Bootstrap" {
				t.Errorf("progress after the resume: %+v %v", p, err)
			}
			waitResult(t, c, ring.Expected{Nodes: append(r.nodes, joiner)}, "healthy with it", func(res ring.Result) bool { return res.Healthy })
		})
	}
}

// TestSimUpgradeSkew: half way through a rolling upgrade 4.1 -> 5.0 the
// verdict is a schema disagreement that UpgradeSkew tells apart; when
// every node runs 5.0, the ring is healthy.
func TestSimUpgradeSkew(t *testing.T) {
	o := fastSimOptions()
	o.ReleaseVersion = "4.1.5"
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 3, PerRack: 1, Options: o})
	c := newClient(nil, 2*time.Second)
	exp := ring.Expected{Nodes: r.nodes}
	waitResult(t, c, exp, "healthy", func(res ring.Result) bool { return res.Healthy })
	r.restartOn(r.nodes[0].Pod, "5.0.1")
	var skew string
	eventually(t, "the upgrade skew", func() (bool, string) {
		snap := ring.Take(context.Background(), c, exp.Nodes, ring.DefaultSnapshotOptions())
		res := ring.Assess(snap, exp)
		var ok bool
		skew, ok = ring.UpgradeSkew(snap, res)
		return ok, res.String()
	})
	if want := "4.1.5 on 2 nodes"; len(skew) < len(want) || skew[:len(want)] != want {
		t.Errorf("skew %q", skew)
	}
	r.restartOn(r.nodes[1].Pod, "5.0.1")
	r.restartOn(r.nodes[2].Pod, "5.0.1")
	waitResult(t, c, exp, "healthy on 5.0", func(res ring.Result) bool { return res.Healthy })
}

// TestSimUpgradeSSTables: a node restarted from 3.11 on 4.1 reports old
// sstables; UpgradeSSTables sends the rewrite of every keyspace and
// returns within its timeout; the count falls to 0.
func TestSimUpgradeSSTables(t *testing.T) {
	o := fastSimOptions()
	o.ReleaseVersion = "3.11.17"
	o.UpgradeTime = 100 * time.Millisecond
	r := startSimRing(t, ringSpec{DCs: 1, Racks: 2, PerRack: 1, Options: o})
	c := newClient(nil, 2*time.Second)
	ops := jolokia.NewOperations(c, jolokia.OperationOptions{ExecTimeout: 150 * time.Millisecond})
	n := r.nodes[1]
	if p, err := ops.ReadProgress(context.Background(), n); err != nil || p.OldSSTables != -1 {
		t.Errorf("3.11 has no count: %+v %v", p, err)
	}
	r.restartOn(r.nodes[0].Pod, "4.1.5")
	r.restartOn(n.Pod, "4.1.5")
	waitResult(t, c, ring.Expected{Nodes: r.nodes}, "healthy", func(res ring.Result) bool { return res.Healthy })
	p, err := ops.ReadProgress(context.Background(), n)
	if err != nil || p.OldSSTables <= 0 {
		t.Fatalf("old sstables after 3.11 -> 4.1: %+v %v", p, err)
	}
	if err := ops.UpgradeSSTables(context.Background(), n); err != nil {
		t.Fatalf("upgradesstables: %v", err)
	}
	eventually(t, "no old sstable left", func() (bool, string) {
		p, err := ops.ReadProgress(context.Background(), n)
		return err == nil && p.OldSSTables == 0, fmt.Sprintf("%+v %v", p, err)
	})
}
