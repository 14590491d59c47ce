package ring

import (
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

// ExpectedNodes lists the nodes a defaulted cluster spec asks for: every
// ordinal below each rack's node count, in the datacenter's kube context.
// pods are the cluster's pods per kube context (from a label selector on
// ringops.dev/cluster); a node takes its pod's IP and Jolokia port (the
// container port named "jolokia", else spec.jolokia.port). Pods the spec
// does not ask for are returned as Expected.Extra. A node whose context is
// absent from pods has no IP, so it is reported NotQueried.
func ExpectedNodes(c *schemas.CassandraCluster, pods map[string][]corev1.Pod) Expected {
	byName := map[string]podIn{}
	for kctx := range pods {
		for i := range pods[kctx] {
			byName[kctx+"/"+pods[kctx][i].Name] = podIn{kctx, &pods[kctx][i]}
		}
	}
	var exp Expected
	for _, dc := range c.Spec.Datacenters {
		for _, rack := range dc.Racks {
			for ord := int32(0); rack.Nodes != nil && ord < *rack.Nodes; ord++ {
				n := Node{
					Cluster: c.Metadata.Name, Context: dc.Context, Namespace: c.Metadata.Namespace,
					Pod:        c.StatefulSetName(dc.Name, rack.Name) + "-" + strconv.Itoa(int(ord)),
					Datacenter: dc.Name, Rack: rack.Name, Port: specPort(c),
				}
				if p, ok := byName[dc.Context+"/"+n.Pod]; ok {
					fillFromPod(&n, p.pod)
					delete(byName, dc.Context+"/"+n.Pod)
				}
				exp.Nodes = append(exp.Nodes, n)
			}
		}
	}
	exp.Extra = extraNodes(c, byName)
	return exp
}

// podIn is a pod and its kube context.
type podIn struct {
	context string
	pod     *corev1.Pod
}

func extraNodes(c *schemas.CassandraCluster, left map[string]podIn) []Node {
	var out []Node
	for _, p := range left {
		n := Node{
			Cluster: c.Metadata.Name, Context: p.context, Namespace: p.pod.Namespace, Pod: p.pod.Name,
			Datacenter: p.pod.Labels[render.LabelDatacenter], Rack: p.pod.Labels[render.LabelRack], Port: specPort(c),
		}
		fillFromPod(&n, p.pod)
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return nodeLess(out[i], out[j]) })
	return out
}

func fillFromPod(n *Node, p *corev1.Pod) {
	n.IP = p.Status.PodIP
	for _, ctr := range p.Spec.Containers {
		for _, port := range ctr.Ports {
			if port.Name == render.PortJolokia && port.ContainerPort > 0 {
				n.Port = port.ContainerPort
			}
		}
	}
}

func specPort(c *schemas.CassandraCluster) int32 {
	if j := c.Spec.Jolokia; j != nil && j.Port != nil {
		return *j.Port
	}
	return schemas.DefaultJolokiaPort
}
