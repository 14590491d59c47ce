package kube_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ringops/ringops/test/env/loopback"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/test/env/controlplane"
)

// TestListPods lists a cluster's pods in two real control planes at once,
// and still returns what it could when a third context is down.
func TestListPods(t *testing.T) {
	if testing.Short() {
		t.Skip("starts control planes")
	}
	block := loopbackBlock(t)
	configs := map[string]*rest.Config{}
	for i, name := range []string{"eu-west", "us-east"} {
		cp, err := controlplane.Start(t.Context(), controlplane.Options{Name: name, Dir: t.TempDir(), Address: fmt.Sprintf("127.%d.0.%d", block, i+1)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cp.Stop() })
		configs[name] = cp.RESTConfig()
		cs := kubernetes.NewForConfigOrDie(cp.RESTConfig())
		createClusterPods(t, cs, "orders", name+"-b", name+"-a")
		createClusterPods(t, cs, "billing", name+"-x")
	}
	clients, err := kube.NewClientsFromConfigs(configs)
	if err != nil {
		t.Fatal(err)
	}
	pods, err := clients.ListPods(t.Context(), "cassandra", kube.ClusterSelector("orders"))
	if err != nil {
		t.Fatal(err)
	}
	if got := podNamesByContext(pods); got != "eu-west:[eu-west-a eu-west-b] us-east:[us-east-a us-east-b]" {
		t.Errorf("pods %s", got)
	}

	// Nothing listens on 127.B.0.3: that context fails, the others answer.
	down := rest.CopyConfig(configs["eu-west"])
	down.Host = fmt.Sprintf("https://127.%d.0.3:6443", block)
	configs["ap-south"] = down
	clients, _ = kube.NewClientsFromConfigs(configs)
	pods, err = clients.ListPods(t.Context(), "cassandra", kube.ClusterSelector("orders"))
	if err == nil || !strings.Contains(err.Error(), "context ap-south: list pods in cassandra") {
		t.Errorf("error %v, want the failing context named", err)
	}
	if got := podNamesByContext(pods); got != "eu-west:[eu-west-a eu-west-b] us-east:[us-east-a us-east-b]" {
		t.Errorf("partial result %s", got)
	}
}

func podNamesByContext(pods map[string][]corev1.Pod) string {
	var out []string
	for _, ctx := range []string{"ap-south", "eu-west", "us-east"} {
		if l, ok := pods[ctx]; ok {
			var n []string
			for _, p := range l {
				n = append(n, p.Name)
			}
			out = append(out, fmt.Sprintf("%s:%v", ctx, n))
		}
	}
	return strings.Join(out, " ")
}

func createClusterPods(t *testing.T, cs kubernetes.Interface, cluster string, names ...string) {
	t.Helper()
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "cassandra", metav1.GetOptions{}); err != nil {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range names {
		pod := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cassandra", Labels: map[string]string{"ringops.dev/cluster": cluster}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "cassandra", Image: "cassandra:4.1.5"}}},
		}
		if _, err := cs.CoreV1().Pods("cassandra").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// loopbackBlock reserves a free 127.B.0.0/16 for the test (the lock protocol
// of test/env/loopback, shared with the local world), held until it ends.
func loopbackBlock(t testing.TB) int {
	t.Helper()
	b, err := loopback.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Release() })
	return b.B
}
