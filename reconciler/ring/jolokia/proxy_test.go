package jolokia_test

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/test/env/controlplane"
)

// TestPodProxy reads a node's view through a real kube-apiserver's pod
// proxy. The API server refuses to proxy to loopback addresses, so the
// simulated node lives in a network namespace this test creates: a veth
// pair with a /30 from 10.x, the agent listening on the namespace's end,
// the pod's status IP set to it.
func TestPodProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a control plane")
	}
	agentIP := newNetns(t)
	ln := listenInNetns(t, agentIP.ns, net.JoinHostPort(agentIP.ip, "8778"))
	body := healthAnswer(t, []string{agentIP.ip})
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(body)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })

	block := loopbackBlock(t)
	ctx := t.Context()
	cp, err := controlplane.Start(ctx, controlplane.Options{Name: "eu-west", Dir: t.TempDir(), Address: fmt.Sprintf("127.%d.0.1", block)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cp.Stop() })
	admin := kubernetes.NewForConfigOrDie(cp.RESTConfig())
	createPod(t, admin, "orders-dc1-r1-0", agentIP.ip)
	createPod(t, admin, "orders-dc1-r1-1", fmt.Sprintf("127.%d.1.2", block))

	proxy, err := jolokia.NewPodProxy(map[string]*rest.Config{"eu-west": cp.RESTConfig()})
	if err != nil {
		t.Fatal(err)
	}
	c := jolokia.NewClient(proxy, jolokia.DefaultOptions())
	node := ring.Node{Cluster: "orders", Context: "eu-west", Namespace: "cassandra", Pod: "orders-dc1-r1-0", Datacenter: "dc1", Rack: "r1", IP: agentIP.ip, Port: 8778}
	res := ring.Assess(ring.Take(ctx, c, []ring.Node{node}, ring.DefaultSnapshotOptions()), ring.Expected{Nodes: []ring.Node{node}})
	if !res.Healthy || res.Nodes[0].State != ring.UN {
		t.Fatalf("through the pod proxy: %v", res)
	}

	t.Run("loopback pod IP is refused by the API server", func(t *testing.T) {
		lo := node
		lo.Pod, lo.IP = "orders-dc1-r1-1", fmt.Sprintf("127.%d.1.2", block)
		_, err := c.ReadView(ctx, lo)
		var he *jolokia.HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusBadRequest || !strings.Contains(he.Message, "address not allowed") {
			t.Fatalf("got %v, want HTTP 400 address not allowed", err)
		}
	})
	t.Run("missing pod", func(t *testing.T) {
		gone := node
		gone.Pod = "orders-dc1-r1-9"
		_, err := c.ReadView(ctx, gone)
		var he *jolokia.HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusNotFound {
			t.Fatalf("got %v, want HTTP 404", err)
		}
	})
	t.Run("RBAC refuses pods/proxy", func(t *testing.T) {
		cfg := serviceAccountConfig(t, admin, cp.RESTConfig())
		p, err := jolokia.NewPodProxy(map[string]*rest.Config{"eu-west": cfg})
		if err != nil {
			t.Fatal(err)
		}
		_, err = jolokia.NewClient(p, jolokia.DefaultOptions()).ReadView(ctx, node)
		var he *jolokia.HTTPError
		if !errors.As(err, &he) || he.StatusCode != http.StatusForbidden || !strings.Contains(he.Message, "pods/proxy") {
			t.Fatalf("got %v, want HTTP 403 on pods/proxy", err)
		}
		cfg.BearerToken = "not-a-token"
		p, _ = jolokia.NewPodProxy(map[string]*rest.Config{"eu-west": cfg})
		if _, err = jolokia.NewClient(p, jolokia.DefaultOptions()).ReadView(ctx, node); !errors.Is(err, jolokia.ErrUnauthorized) {
			t.Fatalf("bad token: got %v, want ErrUnauthorized", err)
		}
	})
}

func createPod(t *testing.T, cs kubernetes.Interface, name, ip string) {
	t.Helper()
	ctx := t.Context()
	if _, err := cs.CoreV1().Namespaces().Get(ctx, "cassandra", metav1.GetOptions{}); err != nil {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}
		if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "cassandra", Labels: map[string]string{"ringops.dev/cluster": "orders"}},
		Spec: corev1.PodSpec{NodeName: "outside-the-world", Containers: []corev1.Container{{
			Name: "cassandra", Image: "cassandra:4.1.5",
			Ports: []corev1.ContainerPort{{Name: "jolokia", ContainerPort: 8778}},
		}}},
	}
	created, err := cs.CoreV1().Pods("cassandra").Create(ctx, pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	created.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}}}
	if _, err := cs.CoreV1().Pods("cassandra").UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// serviceAccountConfig is a client of a service account with no rights.
func serviceAccountConfig(t *testing.T, admin kubernetes.Interface, base *rest.Config) *rest.Config {
	t.Helper()
	ctx := t.Context()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody", Namespace: "cassandra"}}
	if _, err := admin.CoreV1().ServiceAccounts("cassandra").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := admin.CoreV1().ServiceAccounts("cassandra").CreateToken(ctx, "nobody", &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(base)
	cfg.BearerToken = tr.Status.Token
	return cfg
}

// netnsAddr is the address of the far end of a veth pair inside a network
// namespace.
type netnsAddr struct{ ns, ip string }

// newNetns creates a network namespace joined to the host by a veth pair
// with a /30 from 10.x that no route covers yet, and removes both when the
// test ends. It skips the test where that is not possible (not root, no ip).
func newNetns(t *testing.T) netnsAddr {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip command")
	}
	id := fmt.Sprintf("%x", rand.Uint32()&0xffffff)
	ns, host, peer := "ringops-"+id, "rvh"+id, "rvn"+id
	var sub string
	for range 100 {
		sub = fmt.Sprintf("10.%d.%d.%d", 200+rand.IntN(50), rand.IntN(256), 4*rand.IntN(64))
		if out, _ := exec.Command("ip", "-4", "route", "show", "match", sub).Output(); !routed(string(out)) {
			break
		}
		sub = ""
	}
	if sub == "" {
		t.Skip("no free 10.x /30")
	}
	base := strings.Split(sub, ".")
	near := fmt.Sprintf("%s.%s.%s.%d", base[0], base[1], base[2], atoi(base[3])+1)
	far := fmt.Sprintf("%s.%s.%s.%d", base[0], base[1], base[2], atoi(base[3])+2)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", ns).Run() // takes the veth pair with it
		_ = exec.Command("ip", "link", "del", host).Run()
	})
	for _, args := range [][]string{
		{"netns", "add", ns},
		{"link", "add", host, "type", "veth", "peer", "name", peer},
		{"link", "set", peer, "netns", ns},
		{"addr", "add", near + "/30", "dev", host},
		{"link", "set", host, "up"},
		{"-n", ns, "addr", "add", far + "/30", "dev", peer},
		{"-n", ns, "link", "set", peer, "up"},
		{"-n", ns, "link", "set", "lo", "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return netnsAddr{ns: ns, ip: far}
}

// routed reports whether `ip route show match` found a route other than
// the default one.
func routed(out string) bool {
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line != "" && !strings.HasPrefix(line, "default") {
			return true
		}
	}
	return false
}

func atoi(s string) int {
	var n int
	_, _ = fmt.Sscan(s, &n)
	return n
}

// listenInNetns opens a TCP listener inside a network namespace: a thread
// enters the namespace, listens, and is then discarded (its goroutine ends
// while locked to it). The socket stays in the namespace.
func listenInNetns(t *testing.T, ns, addr string) net.Listener {
	t.Helper()
	type result struct {
		ln  net.Listener
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		f, err := os.Open("/var/run/netns/" + ns)
		if err != nil {
			ch <- result{err: err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			ch <- result{err: fmt.Errorf("setns: %w", err)}
			return
		}
		ln, err := net.Listen("tcp", addr)
		ch <- result{ln, err}
	}()
	r := <-ch
	if r.err != nil {
		t.Fatalf("listen %s in %s: %v", addr, ns, r.err)
	}
	t.Cleanup(func() { _ = r.ln.Close() })
	return r.ln
}
