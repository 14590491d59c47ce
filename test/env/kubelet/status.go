package kubelet

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// apply writes the runner's state into a pod status: phase, IPs, container
// statuses and the conditions the kubelet owns. Conditions owned by others
// (PodScheduled, DisruptionTarget, ...) are kept.
func (r *runner) apply(st *corev1.PodStatus) {
	st.Phase = r.st.phase
	st.HostIP, st.HostIPs = r.hostIP, []corev1.HostIP{{IP: r.hostIP}}
	st.PodIP, st.PodIPs = r.ip, []corev1.PodIP{{IP: r.ip}}
	if st.StartTime == nil {
		st.StartTime = &r.sandboxAt
	}
	st.Reason, st.Message = "", ""
	st.InitContainerStatuses = r.initStatuses()
	st.ContainerStatuses = r.containerStatuses()
	allReady := len(st.ContainerStatuses) > 0
	for _, c := range st.ContainerStatuses {
		allReady = allReady && c.Ready
	}
	cond := func(typ corev1.PodConditionType, ok bool, reason string) {
		c := corev1.PodCondition{Type: typ, Status: corev1.ConditionTrue}
		if !ok {
			c.Status, c.Reason = corev1.ConditionFalse, reason
		}
		setCondition(&st.Conditions, c)
	}
	terminal := r.st.phase == corev1.PodSucceeded || r.st.phase == corev1.PodFailed
	cond(corev1.PodReadyToStartContainers, !terminal, "")
	cond(corev1.PodInitialized, true, "")
	cond(corev1.ContainersReady, allReady, "ContainersNotReady")
	cond(corev1.PodReady, allReady, "ContainersNotReady")
	if terminal {
		cond(corev1.ContainersReady, false, "PodCompleted")
		cond(corev1.PodReady, false, "PodCompleted")
	}
}

// initStatuses reports every init container as completed.
func (r *runner) initStatuses() []corev1.ContainerStatus {
	var out []corev1.ContainerStatus
	for _, c := range r.pod.Spec.InitContainers {
		out = append(out, corev1.ContainerStatus{
			Name: c.Name, Image: c.Image, ImageID: imageID(c.Image),
			ContainerID: "sim://" + string(r.uid) + "-" + c.Name,
			State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
				Reason: "Completed", StartedAt: r.sandboxAt, FinishedAt: r.sandboxAt,
			}},
			Ready: true,
		})
	}
	return out
}

// containerStatuses reports the Cassandra container from the runner's
// state; other containers run and are ready alongside the pod.
func (r *runner) containerStatuses() []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, 0, len(r.pod.Spec.Containers))
	main := cassandraContainer(r.pod)
	for _, c := range r.pod.Spec.Containers {
		s := corev1.ContainerStatus{Name: c.Name, Image: c.Image, ImageID: imageID(c.Image)}
		if main == nil || c.Name != main.Name {
			r.sidecarStatus(&s)
		} else {
			s.State, s.LastTerminationState = r.st.state, r.st.last
			s.Ready, s.RestartCount, s.ContainerID = r.st.ready, r.st.restarts, r.st.id
			started := r.st.started && r.st.state.Running != nil
			s.Started = &started
		}
		out = append(out, s)
	}
	return out
}

func (r *runner) sidecarStatus(s *corev1.ContainerStatus) {
	s.ContainerID = "sim://" + string(r.uid) + "-" + s.Name
	if r.st.phase == corev1.PodSucceeded || r.st.phase == corev1.PodFailed {
		s.State = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
			Reason: "Completed", StartedAt: r.sandboxAt, FinishedAt: metav1.Now(),
		}}
		return
	}
	started := true
	s.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: r.sandboxAt}}
	s.Ready, s.Started = true, &started
}

func imageID(image string) string { return "sim://" + image }
