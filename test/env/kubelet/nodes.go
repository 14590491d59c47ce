package kubelet

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Labels the kubelet puts on its nodes.
const (
	LabelHostname = "kubernetes.io/hostname"
	LabelRegion   = "topology.kubernetes.io/region"
	LabelZone     = "topology.kubernetes.io/zone"
)

// registerNodes creates (or takes over) the region's nodes and marks them Ready.
func (k *Kubelet) registerNodes(ctx context.Context) error {
	for i := range k.opts.Nodes {
		if err := k.registerNode(ctx, i); err != nil {
			return fmt.Errorf("kubelet %s: node %s: %w", k.opts.Region, k.nodeName(i), err)
		}
	}
	return nil
}

func (k *Kubelet) registerNode(ctx context.Context, i int) error {
	name := k.nodeName(i)
	node := &corev1.Node{ObjectMeta: metav1.ObjectMeta{
		Name: name,
		Labels: map[string]string{
			LabelHostname:             name,
			LabelRegion:               k.opts.Region,
			LabelZone:                 k.opts.Zones[i%len(k.opts.Zones)],
			"kubernetes.io/os":        "linux",
			"kubernetes.io/arch":      "amd64",
			"node.kubernetes.io/role": "worker",
		},
	}}
	created, err := k.client.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		created, err = k.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return err
	}
	created.Status = k.nodeStatus(i, time.Now())
	_, err = k.client.CoreV1().Nodes().UpdateStatus(ctx, created, metav1.UpdateOptions{})
	return err
}

func (k *Kubelet) nodeStatus(i int, now time.Time) corev1.NodeStatus {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:              resource.MustParse("64"),
		corev1.ResourceMemory:           resource.MustParse("256Gi"),
		corev1.ResourcePods:             resource.MustParse("110"),
		corev1.ResourceEphemeralStorage: resource.MustParse("1Ti"),
	}
	t := metav1.NewTime(now)
	cond := func(typ corev1.NodeConditionType, status corev1.ConditionStatus, reason, msg string) corev1.NodeCondition {
		return corev1.NodeCondition{Type: typ, Status: status, Reason: reason, Message: msg,
			LastHeartbeatTime: t, LastTransitionTime: t}
	}
	return corev1.NodeStatus{
		Capacity:    capacity,
		Allocatable: capacity,
		Phase:       corev1.NodeRunning,
		Conditions: []corev1.NodeCondition{
			cond(corev1.NodeMemoryPressure, corev1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(corev1.NodeDiskPressure, corev1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(corev1.NodePIDPressure, corev1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(corev1.NodeReady, corev1.ConditionTrue, "KubeletReady", "kubelet is posting ready status (simulated)"),
		},
		Addresses: []corev1.NodeAddress{
			{Type: corev1.NodeInternalIP, Address: k.opts.NodeIPs.IP(i)},
			{Type: corev1.NodeHostName, Address: k.nodeName(i)},
		},
		NodeInfo: corev1.NodeSystemInfo{
			KubeletVersion: "v1.36.3-sim", OperatingSystem: "linux", Architecture: "amd64",
			ContainerRuntimeVersion: "ringops-sim://1", OSImage: "ringops local world",
		},
	}
}

// heartbeat keeps every node Ready: it refreshes the conditions'
// heartbeat times and puts back Ready if something changed it.
func (k *Kubelet) heartbeat() {
	t := time.NewTicker(k.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-k.ctx.Done():
			return
		case <-t.C:
		}
		for i := range k.opts.Nodes {
			if err := k.beat(i); err != nil && k.ctx.Err() == nil {
				k.opts.Logf("kubelet %s: node %s: heartbeat: %v", k.opts.Region, k.nodeName(i), err)
			}
		}
	}
}

func (k *Kubelet) beat(i int) error {
	node, err := k.client.CoreV1().Nodes().Get(k.ctx, k.nodeName(i), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return k.registerNode(k.ctx, i)
	}
	if err != nil {
		return err
	}
	fresh := k.nodeStatus(i, time.Now())
	for j, c := range fresh.Conditions {
		for _, old := range node.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				fresh.Conditions[j].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	node.Status = fresh
	_, err = k.client.CoreV1().Nodes().UpdateStatus(k.ctx, node, metav1.UpdateOptions{})
	return err
}
