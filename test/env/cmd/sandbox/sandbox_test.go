package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringops/ringops/test/env/internal/proc"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// TestMain lets the test binary stand in for the sandbox binary: up
// starts os.Executable() with "serve".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := run(os.Args[1:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "sandbox:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestUpStatusDown: up returns once the world is ready and prints how to
// use it; the kubeconfig works; down stops every process and removes the
// directory.
func TestUpStatusDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sandbox")
	flags := []string{"-dir", dir, "-regions", "eu-west,us-east", "-nodes", "2"}
	var out bytes.Buffer
	t.Cleanup(func() { _ = run(append([]string{"down"}, flags...), &out) })
	if err := run(append([]string{"up"}, flags...), &out); err != nil {
		t.Fatalf("up: %v\n%s", err, out.String())
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	for _, want := range []string{kubeconfig, "eu-west us-east", "--context eu-west", "sandbox down"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("up printed no %q:\n%s", want, out.String())
		}
	}
	checkKubeconfig(t, kubeconfig, "us-east", 2)

	pid, ok := runningPid(config{dir: dir})
	if !ok {
		t.Fatal("no running server after up")
	}
	procs := append([]int{pid}, proc.Descendants(pid)...)
	if len(procs) != 7 { // server + 2 x (etcd, kube-apiserver, kube-controller-manager)
		t.Errorf("server and descendants: %d processes, want 7", len(procs))
	}
	out.Reset()
	if err := run(append([]string{"stats"}, flags...), &out); err != nil || !strings.Contains(out.String(), "kube-apiserver") {
		t.Errorf("stats: %v\n%s", err, out.String())
	}
	if err := run(append([]string{"down"}, flags...), &out); err != nil {
		t.Fatalf("down: %v", err)
	}
	for _, p := range procs {
		if proc.Alive(p) {
			t.Errorf("process %d still runs after down", p)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("sandbox directory after down: %v, want removed", err)
	}
}

func checkKubeconfig(t *testing.T, path, context string, nodes int) {
	t.Helper()
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(
		&clientcmd.ClientConfigLoadingRules{ExplicitPath: path},
		&clientcmd.ConfigOverrides{CurrentContext: context}).ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	list, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatalf("context %s: %v", context, err)
	}
	if len(list.Items) != nodes {
		t.Errorf("context %s: %d nodes, want %d", context, len(list.Items), nodes)
	}
}
