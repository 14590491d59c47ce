package controlplane_test

import (
	"testing"

	"github.com/ringops/ringops/test/env/controlplane"
	"github.com/ringops/ringops/test/env/internal/proc"
	"github.com/ringops/ringops/test/env/loopback"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// TestStartStop starts one control plane: the admin token works, a wrong
// one does not, the controllers run (default service account), and Stop
// leaves no process behind.
func TestStartStop(t *testing.T) {
	block, err := loopback.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = block.Release() }()
	cp, err := controlplane.Start(t.Context(), controlplane.Options{
		Name: "test", Dir: t.TempDir(), Address: block.IP(0, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	procs := cp.Processes()
	t.Cleanup(func() {
		_ = cp.Stop()
		for _, p := range procs {
			if proc.Alive(p.Pid()) {
				t.Errorf("%s (pid %d) still runs after Stop", p.Name, p.Pid())
			}
		}
	})
	if len(procs) != 3 {
		t.Fatalf("%d processes, want 3", len(procs))
	}
	client := kubernetes.NewForConfigOrDie(cp.RESTConfig())
	if _, err := client.CoreV1().ServiceAccounts("default").Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("default service account: %v", err)
	}
	bad := rest.AnonymousClientConfig(cp.RESTConfig())
	bad.BearerToken = "wrong"
	_, err = kubernetes.NewForConfigOrDie(bad).CoreV1().Namespaces().List(t.Context(), metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Fatalf("wrong token: got %v, want Unauthorized", err)
	}

	// The API server alone goes away and comes back, with etcd's data.
	if err := cp.StopAPIServer(); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ServiceAccounts("default").Get(t.Context(), "default", metav1.GetOptions{}); err == nil {
		t.Fatal("the API server answers after StopAPIServer")
	}
	if err := cp.StartAPIServer(t.Context()); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().ServiceAccounts("default").Get(t.Context(), "default", metav1.GetOptions{}); err != nil {
		t.Fatalf("after StartAPIServer: %v", err)
	}
	procs = cp.Processes() // the new API server must be stopped too
}
