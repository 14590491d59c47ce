package plan

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestNotReadyNamesTheCrash: a pod whose Cassandra refuses to start (here
// all its seed names unresolvable, #14 item 10) is reported not Ready with
// its restarts, exit code and termination message, which names the cause.
func TestNotReadyNamesTheCrash(t *testing.T) {
	r := &rack{name: "orders-dc1-r1", live: &liveSTS{replicas: 1, partition: 1}, pods: map[int32]*corev1.Pod{0: {
		ObjectMeta: metav1.ObjectMeta{Name: "orders-dc1-r1-0"},
		Status: corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{
			Name: "cassandra", RestartCount: 3,
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3,
				Message: "WARN Seed provider couldn't lookup host orders-dc1-r1-0.dc1.orders.db.example.com\nERROR Exception encountered during startup: The seed provider lists no seeds.\n"}},
		}}},
	}}}
	v := &view{o: &Observed{Ring: Ring{Nodes: map[string]RingNode{}}}}
	a := v.podBusy(r, 0, false)
	if a == nil {
		t.Fatal("a pod not Ready is not busy")
	}
	for _, want := range []string{"orders-dc1-r1-0 not Ready", "exited 3 times, last with code 3", "The seed provider lists no seeds."} {
		if !strings.Contains(a.what, want) {
			t.Errorf("%q does not say %q", a.what, want)
		}
	}
}
