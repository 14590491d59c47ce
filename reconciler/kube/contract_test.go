package kube_test

import (
	"errors"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
)

// The executor converts the planner's values to kube's without copying
// (kube does not import plan): this stops compiling when they drift apart.
var (
	_ = kube.Ref(plan.ObjectRef{})
	_ = (*plan.Context)((*kube.Observation)(nil))
)

func TestPlanContract(t *testing.T) {
	obs := &kube.Observation{Err: errors.New("down"), Pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "orders-dc1-r1-0"}}}}
	pc := (*plan.Context)(obs)
	if pc.Err != obs.Err || pc.Pods[0].Name != "orders-dc1-r1-0" {
		t.Errorf("converted observation %+v", pc)
	}
	target := plan.ObjectRef{APIVersion: "apps/v1", Kind: "StatefulSet", Namespace: "cassandra", Name: "orders-dc1-r1", UID: "u", ResourceVersion: "7"}
	if ref := kube.Ref(target); ref.String() != "statefulset orders-dc1-r1" || ref.UID != "u" || ref.ResourceVersion != "7" {
		t.Errorf("converted ref %+v", ref)
	}
}
