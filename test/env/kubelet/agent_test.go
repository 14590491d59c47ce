package kubelet

import (
	"context"
	"testing"
	"testing/fstest"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

const agentSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: tiny, namespace: cassandra}
spec:
  image: cassandra:5.0.9
  storage: {size: 1Gi}
  jolokia: {tls: {secret: agents-tls, keyAlgorithm: EC}}
  datacenters:
    - name: dc1
      context: eu-west
      racks: [{name: r1}]
`

// renderedPod is the pod of the first StatefulSet render makes of spec.
func renderedPod(t *testing.T, spec string) *corev1.Pod {
	t.Helper()
	c, err := schemas.Parse("clusters/tiny/cluster.yaml", []byte(spec))
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{"clusters/tiny/cluster.yaml": {Data: []byte(spec)}}
	m, err := render.New(render.Options{}).Render(context.Background(), fsys, "clusters/tiny", c, "eu-west")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range m.Objects {
		if o.GetKind() != "StatefulSet" {
			continue
		}
		var sts appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &sts); err != nil {
			t.Fatal(err)
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "cassandra", Name: sts.Name + "-0"}, Spec: sts.Spec.Template.Spec}
	}
	t.Fatal("no StatefulSet rendered")
	return nil
}

// TestJolokiaAgents reads the agents of a pod as render makes it: with
// spec.jolokia.tls, the agent on 8778 with the options the init script
// writes (protocol https, the certificate and key it copies from the TLS
// Secret, their algorithm) and the probe's agent on 127.0.0.1:8779 whose
// arguments override the file's host, port and protocol; without tls one
// agent, no protocol. A change of render's script that the simulator
// would not follow fails here.
func TestJolokiaAgents(t *testing.T) {
	client := fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cassandra", Name: "agents-tls"},
			Data: map[string][]byte{"tls.crt": []byte("CERT"), "tls.key": []byte("KEY"), "ca.crt": []byte("CA")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cassandra", Name: "tiny-jolokia"},
			Data: map[string][]byte{"username": []byte("u"), "password": []byte("p")}})
	k := &Kubelet{client: client}
	agents := func(spec string) []JolokiaAgent {
		p := renderedPod(t, spec)
		c := cassandraContainer(p)
		env, err := k.environment(context.Background(), p, c, "10.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		out, err := k.jolokiaAgents(context.Background(), p, c, env)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := agents(agentSpec)
	if len(got) != 2 {
		t.Fatalf("%d agents, want 2: %+v", len(got), got)
	}
	a, probe := got[0].Options, got[1].Options
	for key, want := range map[string]string{"protocol": "https", "host": "0.0.0.0", "port": "8778", "serverKeyAlgorithm": "EC", "executor": "fixed"} {
		if a[key] != want {
			t.Errorf("agent option %s = %q, want %q (all: %v)", key, a[key], want, a)
		}
	}
	if f := got[0].Files; string(f[a["serverCert"]]) != "CERT" || string(f[a["serverKey"]]) != "KEY" {
		t.Errorf("serverCert %s and serverKey %s hold %q, %q; want the TLS Secret's tls.crt and tls.key", a["serverCert"], a["serverKey"], f[a["serverCert"]], f[a["serverKey"]])
	}
	for key, want := range map[string]string{"protocol": "http", "host": "127.0.0.1", "port": "8779"} {
		if probe[key] != want {
			t.Errorf("probe agent option %s = %q, want %q (all: %v)", key, probe[key], want, probe)
		}
	}
	plain := agents(`apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: tiny, namespace: cassandra}
spec:
  image: cassandra:5.0.9
  storage: {size: 1Gi}
  datacenters:
    - name: dc1
      context: eu-west
      racks: [{name: r1}]
`)
	if len(plain) != 1 || plain[0].Options["protocol"] != "" || plain[0].Options["port"] != "8778" {
		t.Errorf("without tls: %+v, want one agent on 8778, no protocol", plain)
	}
}

// TestReadProperties: the escapes the init script writes for a password
// (a leading space, backslashes) are undone as Properties.load does.
func TestReadProperties(t *testing.T) {
	got := readProperties("# c\n! c\nuser=ringops\npassword=\\ a\\\\b\n  port = 8778\n")
	want := map[string]string{"user": "ringops", "password": " a\\b", "port": "8778"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %v", got)
	}
}
