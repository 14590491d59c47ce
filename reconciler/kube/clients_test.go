package kube_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringops/ringops/reconciler/kube"
)

const kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: eu
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
- name: us
  cluster: {server: "https://127.0.0.2:6443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: secret-token-value}
contexts:
- name: eu-west
  context: {cluster: eu, user: admin}
- name: us-east
  context: {cluster: us, user: admin}
current-context: eu-west
`

func writeKubeconfig(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "kubeconfig")
	if err := os.WriteFile(p, []byte(kubeconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewClients(t *testing.T) {
	path := writeKubeconfig(t)
	c, err := kube.NewClients([]string{"us-east", "eu-west"}, kube.Options{Kubeconfig: path, QPS: 7})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Contexts(); strings.Join(got, ",") != "eu-west,us-east" {
		t.Errorf("contexts %v", got)
	}
	cfg, err := c.Config("us-east")
	if err != nil || cfg.Host != "https://127.0.0.2:6443" || cfg.BearerToken != "secret-token-value" || cfg.QPS != 7 || cfg.Burst != 40 || cfg.UserAgent != "ringops" {
		t.Errorf("us-east config: %+v, %v", cfg, err)
	}
	if _, err := c.Clientset("eu-west"); err != nil {
		t.Error(err)
	}
	if _, err := c.Clientset("ap-south"); !errors.Is(err, kube.ErrUnknownContext) {
		t.Errorf("unknown context: %v", err)
	}
	// Configs are copies: changing one does not change the clients.
	cfg.Host = "https://elsewhere"
	if again, _ := c.Config("us-east"); again.Host != "https://127.0.0.2:6443" {
		t.Error("Config returned the clients' own configuration")
	}
}

func TestNewClientsErrors(t *testing.T) {
	path := writeKubeconfig(t)
	_, err := kube.NewClients([]string{"eu-west", "ap-south"}, kube.Options{Kubeconfig: path})
	if !errors.Is(err, kube.ErrUnknownContext) || !strings.Contains(err.Error(), "ap-south") || !strings.Contains(err.Error(), path) {
		t.Errorf("missing context: %v", err)
	}
	if strings.Contains(err.Error(), "secret-token-value") {
		t.Errorf("error shows the token: %v", err)
	}
	t.Setenv("KUBERNETES_SERVICE_HOST", "")
	_, err = kube.NewClients([]string{"ap-south"}, kube.Options{Kubeconfig: path, InClusterContext: "ap-south"})
	if err == nil || !strings.Contains(err.Error(), "in-cluster") {
		t.Errorf("in-cluster context outside a cluster: %v", err)
	}
	if _, err := kube.NewClients([]string{"eu-west"}, kube.Options{Kubeconfig: filepath.Join(t.TempDir(), "missing")}); err == nil {
		t.Error("missing kubeconfig file: no error")
	}
}

func TestNewClientsFromEnvironment(t *testing.T) {
	t.Setenv("KUBECONFIG", writeKubeconfig(t))
	c, err := kube.NewClients([]string{"eu-west"}, kube.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := c.Config("eu-west"); cfg.Host != "https://127.0.0.1:6443" {
		t.Errorf("host %s", cfg.Host)
	}
}
