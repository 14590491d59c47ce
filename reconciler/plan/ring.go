package plan

import (
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/render"
)

// Member is a node that should be in the ring now: a pod below its
// StatefulSet's live replicas (not the spec's node count: mid-rollout the
// ring is judged against what exists, so that a rack at 2 of 3 nodes is
// healthy when its 2 nodes are).
type Member struct {
	Context    string
	Namespace  string
	Pod        string
	Datacenter string
	Rack       string
	Ordinal    int32
	// IP is the pod IP, "" when the pod does not exist or has none yet.
	IP string
	// Port is the pod's Jolokia container port, 0 when unknown.
	Port int32
}

// Members lists the nodes the ring should hold given the live
// StatefulSets of the cluster in the reachable contexts, sorted by
// context and pod. The ring's health is to be judged over exactly these
// (RingExpected).
func Members(cluster string, o *Observed) []Member {
	var out []Member
	for _, kc := range sortedKeys(o.Contexts) {
		oc := o.Contexts[kc]
		if oc == nil || oc.Err != nil {
			continue
		}
		lc := indexContext(oc, cluster)
		for _, name := range sortedKeys(lc.sts) {
			u := lc.sts[name]
			s := readSTS(u)
			labels := u.GetLabels()
			for ord := int32(0); ord < s.replicas; ord++ {
				m := Member{Context: kc, Namespace: u.GetNamespace(), Pod: name + "-" + itoa(int(ord)),
					Datacenter: labels[contract.LabelDatacenter], Rack: labels[contract.LabelRack], Ordinal: ord}
				if p := lc.pods[m.Pod]; p != nil {
					m.IP, m.Port = p.Status.PodIP, jolokiaPort(p)
				}
				out = append(out, m)
			}
		}
	}
	return out
}

func jolokiaPort(p *corev1.Pod) int32 {
	for _, c := range p.Spec.Containers {
		for _, port := range c.Ports {
			if port.Name == render.PortJolokia && port.ContainerPort > 0 {
				return port.ContainerPort
			}
		}
	}
	return 0
}

// RingExpected is what ring.Assess should judge the snapshot against:
// Members as the expected nodes (port defaulting to defaultPort), and the
// cluster's other pods as extra (being removed).
func RingExpected(cluster string, o *Observed, defaultPort int32) ring.Expected {
	var exp ring.Expected
	member := map[string]bool{}
	for _, m := range Members(cluster, o) {
		member[m.Context+"/"+m.Pod] = true
		port := m.Port
		if port == 0 {
			port = defaultPort
		}
		exp.Nodes = append(exp.Nodes, ring.Node{Cluster: cluster, Context: m.Context, Namespace: m.Namespace,
			Pod: m.Pod, Datacenter: m.Datacenter, Rack: m.Rack, IP: m.IP, Port: port})
	}
	for _, kc := range sortedKeys(o.Contexts) {
		oc := o.Contexts[kc]
		if oc == nil || oc.Err != nil {
			continue
		}
		for _, p := range oc.Pods {
			if p.Labels[contract.LabelCluster] != cluster || member[kc+"/"+p.Name] {
				continue
			}
			port := jolokiaPort(&p)
			if port == 0 {
				port = defaultPort
			}
			exp.Extra = append(exp.Extra, ring.Node{Cluster: cluster, Context: kc, Namespace: p.Namespace, Pod: p.Name,
				Datacenter: p.Labels[contract.LabelDatacenter], Rack: p.Labels[contract.LabelRack], IP: p.Status.PodIP, Port: port})
		}
	}
	return exp
}

// FromResult turns a ring verdict into the planner's input. since is when
// the current verdict started (the caller remembers when it last saw the
// verdict change; zero if unknown).
func FromResult(res ring.Result, since time.Time) Ring {
	rg := Ring{Assessed: true, Healthy: res.Healthy, Since: since, Summary: res.String(), Nodes: map[string]RingNode{}}
	queried := false
	for _, st := range res.Nodes {
		if st.Mode != "" {
			queried = true
		}
		if st.Node.Pod == "" {
			if st.State != ring.StateUnknown || st.HostID != "" { // replace (#16)
				rg.Others = append(rg.Others, RingEndpoint{Address: st.Node.IP, HostID: st.HostID, State: st.State})
			}
			continue
		}
		rg.Nodes[st.Node.Pod] = RingNode{Mode: st.Mode, State: st.State,
			InRing: st.State != ring.StateUnknown || st.HostID != "", OldSSTables: -1,
			HostID: st.HostID, Address: ring.NormalizeEndpoint(st.Node.IP), Load: st.Load}
	}
	rg.Assessed = queried || len(res.Nodes) == 0
	for _, r := range res.Reasons {
		p := RingProblem{Kind: r.Kind.String(), Text: r.String()}
		for _, n := range r.Nodes {
			if n.Pod != "" {
				p.Nodes = append(p.Nodes, n.Pod)
			} else {
				p.Nodes = append(p.Nodes, n.Address)
			}
		}
		slices.Sort(p.Nodes)
		rg.Problems = append(rg.Problems, p)
	}
	return rg
}
