package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/render"
)

// deadNode is a node the ring has down, named for `ringops status`
// (replace, #16): which pod's node it was (the record <cluster>-nodes),
// how long it has been down (a live node's Gossiper) and what ringops
// does about it.
type deadNode struct {
	HostID  string `json:"hostID"`
	Address string `json:"address"`
	Pod     string `json:"pod,omitempty"`
	// DownFor is how long it has been down, "" when no live node said.
	DownFor string `json:"downFor,omitempty"`
	Action  string `json:"action"`
}

// deadNodes lists the down nodes of a ring's statuses that have a host
// ID, with their record's pod and what ringops does; downtime answers how
// long an address has been down (0 when unknown).
func deadNodes(res ring.Result, recorded []plan.RecordedNode, downtime func(address string) time.Duration) []deadNode {
	var out []deadNode
	for _, st := range res.Nodes {
		if st.HostID == "" || st.State == ring.StateUnknown || st.State.Up() {
			continue
		}
		var rec *plan.RecordedNode
		for i := range recorded {
			if strings.EqualFold(recorded[i].HostID, st.HostID) {
				rec = &recorded[i]
			}
		}
		d := deadNode{HostID: st.HostID, Address: st.Node.IP, Action: plan.DeadNodeAction(st.HostID, rec)}
		if rec != nil {
			d.Pod = rec.Pod
		}
		if dt := downtime(st.Node.IP); dt > 0 {
			d.DownFor = dt.Round(time.Second).String()
		}
		out = append(out, d)
	}
	return out
}

// readRecorded reads the record of each context; a context where it
// cannot be read is a warning (none yet is no warning).
func readRecorded(ctx context.Context, clients *kube.Clients, contexts []string, ns, cluster string) ([]plan.RecordedNode, []string) {
	var out []plan.RecordedNode
	var warnings []string
	for _, kc := range contexts {
		cs, err := clients.Clientset(kc)
		if err == nil {
			cm, gerr := cs.CoreV1().ConfigMaps(ns).Get(ctx, render.NodesConfigMap(cluster), metav1.GetOptions{})
			if gerr == nil {
				out = append(out, plan.RecordedNodes(cm.Data)...)
			}
			err = gerr
		}
		if err != nil && !apierrors.IsNotFound(err) {
			warnings = append(warnings, fmt.Sprintf("%s: record %s: %v", kc, render.NodesConfigMap(cluster), err))
		}
	}
	return out, warnings
}

// downtimeVia asks the first NORMAL expected node of a ring how long an
// address has been down.
func downtimeVia(ctx context.Context, ops *jolokia.Operations, res ring.Result) func(string) time.Duration {
	var via *ring.Node
	for _, st := range res.Nodes {
		if st.Expected && st.Mode == ring.ModeNormal {
			n := st.Node
			via = &n
			break
		}
	}
	return func(address string) time.Duration {
		if via == nil || address == "" {
			return 0
		}
		dt, err := ops.Downtime(ctx, *via, address)
		if err != nil {
			return 0
		}
		return dt
	}
}

// writeDeadNodes is the text of the dead nodes, after the ring's.
func writeDeadNodes(w io.Writer, dead []deadNode) error {
	if len(dead) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("\nDead nodes:\n")
	for _, d := range dead {
		who := d.HostID + " at " + d.Address
		if d.Pod != "" {
			who += " (" + d.Pod + ")"
		}
		down := "down"
		if d.DownFor != "" {
			down = "down for " + d.DownFor
		}
		fmt.Fprintf(&b, "  %s, %s: %s\n", who, down, d.Action)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
