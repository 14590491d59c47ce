package env_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/internal/proc"
	"github.com/ringops/ringops/test/env/kubelet"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

// waitLimit bounds every wait of these tests; the world is fast, the machine may
// be busy.
const waitLimit = 90 * time.Second

// TestWorld brings up three regions and checks what a user of the world
// relies on. Every process it started must be gone afterwards.
func TestWorld(t *testing.T) {
	var started []env.Process
	t.Cleanup(func() { // registered first: runs after the world's own cleanup
		for _, p := range started {
			if proc.Alive(p.Pid) {
				t.Errorf("%s (pid %d) still runs after the world stopped", p.Name, p.Pid)
			}
		}
		if left := childrenNamed("etcd", "kube-apiserver", "kube-controller"); len(left) > 0 {
			t.Errorf("child processes left after the world stopped: %v", left)
		}
	})
	w := env.Start(t, env.DefaultOptions())
	started = w.Processes()
	if len(started) != 9 {
		t.Fatalf("3 regions started %d processes, want 9 (etcd, kube-apiserver, kube-controller-manager each): %v",
			len(started), started)
	}
	t.Run("kubeconfig has one context per region", func(t *testing.T) { testKubeconfig(t, w) })
	t.Run("regions are independent", func(t *testing.T) { testIndependent(t, w) })
	t.Run("RBAC is on", func(t *testing.T) { testRBAC(t, w) })
	t.Run("scheduler spreads pods and leaves the rest Pending", func(t *testing.T) { testScheduler(t, w) })
	t.Run("cassandra ring on two racks", func(t *testing.T) { testCassandra(t, w) })
	t.Run("pod faults", func(t *testing.T) { testFaults(t, w) })
}

func testKubeconfig(t *testing.T, w *env.World) {
	cfg, err := clientcmd.LoadFromFile(w.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	var contexts []string
	for name := range cfg.Contexts {
		contexts = append(contexts, name)
	}
	slices.Sort(contexts)
	if want := []string{"ap-south", "eu-west", "us-east"}; !slices.Equal(contexts, want) {
		t.Fatalf("contexts %v, want %v", contexts, want)
	}
	for _, name := range contexts {
		rc, err := clientcmd.NewNonInteractiveClientConfig(*cfg, name, nil, nil).ClientConfig()
		if err != nil {
			t.Fatal(err)
		}
		client := kubernetes.NewForConfigOrDie(rc)
		nodes, err := client.CoreV1().Nodes().List(t.Context(), metav1.ListOptions{})
		if err != nil {
			t.Fatalf("context %s: %v", name, err)
		}
		for _, n := range nodes.Items {
			if n.Labels["topology.kubernetes.io/region"] != name {
				t.Errorf("context %s: node %s is in region %q", name, n.Name, n.Labels["topology.kubernetes.io/region"])
			}
		}
		if len(nodes.Items) != 9 {
			t.Errorf("context %s: %d nodes, want 9", name, len(nodes.Items))
		}
	}
}

func testIndependent(t *testing.T, w *env.World) {
	eu := w.Region("eu-west")
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "only-in-eu-west", Namespace: "default"}}
	if _, err := eu.Client.CoreV1().ConfigMaps("default").Create(t.Context(), cm, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := eu.Client.CoreV1().ConfigMaps("default").Get(t.Context(), cm.Name, metav1.GetOptions{}); err != nil {
		t.Fatalf("eu-west: %v", err)
	}
	for _, name := range []string{"us-east", "ap-south"} {
		_, err := w.Region(name).Client.CoreV1().ConfigMaps("default").Get(t.Context(), cm.Name, metav1.GetOptions{})
		if !apierrors.IsNotFound(err) {
			t.Errorf("%s: configmap created in eu-west: got %v, want NotFound", name, err)
		}
	}
}

// testRBAC: a service account token (signed by the region's key) is
// authenticated but forbidden until a RoleBinding grants it a role.
func testRBAC(t *testing.T, w *env.World) {
	r := w.Region("us-east")
	ctx := t.Context()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "nobody", Namespace: "default"}}
	if _, err := r.Client.CoreV1().ServiceAccounts("default").Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := r.Client.CoreV1().ServiceAccounts("default").CreateToken(ctx, "nobody",
		&authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(r.Config)
	cfg.BearerToken = tr.Status.Token
	nobody := kubernetes.NewForConfigOrDie(cfg)
	_, err = nobody.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Fatalf("list pods as a service account without rights: got %v, want Forbidden", err)
	}
	cfg.BearerToken = "not-a-token"
	_, err = kubernetes.NewForConfigOrDie(cfg).CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
	if !apierrors.IsUnauthorized(err) {
		t.Fatalf("list pods with a bad token: got %v, want Unauthorized", err)
	}
	rb := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "nobody-view", Namespace: "default"},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "nobody", Namespace: "default"}},
	}
	if _, err := r.Client.RbacV1().RoleBindings("default").Create(ctx, rb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLimit, "service account bound to view can list pods", func() (bool, string) {
		_, err := nobody.CoreV1().Pods("default").List(ctx, metav1.ListOptions{})
		return err == nil, fmt.Sprint(err)
	})
}

// testScheduler: ten replicas with anti-affinity on the hostname over nine
// nodes: nine run on nine distinct nodes, the tenth stays Pending and
// Unschedulable.
func testScheduler(t *testing.T, w *env.World) {
	r := w.Region("ap-south")
	ctx := t.Context()
	sts := plainStatefulSet("default", "spread", 10)
	if _, err := r.Client.AppsV1().StatefulSets("default").Create(ctx, sts, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLimit, "9 pods ready on distinct nodes, 1 unschedulable", func() (bool, string) {
		pods, err := r.Client.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=spread"})
		if err != nil {
			return false, err.Error()
		}
		nodes := map[string]bool{}
		ready, unschedulable := 0, 0
		for i := range pods.Items {
			p := &pods.Items[i]
			if podReady(p) {
				ready++
				nodes[p.Spec.NodeName] = true
			}
			if c, ok := podCondition(p, corev1.PodScheduled); ok && c.Status == corev1.ConditionFalse &&
				c.Reason == corev1.PodReasonUnschedulable && p.Status.Phase == corev1.PodPending {
				unschedulable++
			}
		}
		return ready == 9 && len(nodes) == 9 && unschedulable == 1,
			fmt.Sprintf("%d pods, %d ready on %d nodes, %d unschedulable", len(pods.Items), ready, len(nodes), unschedulable)
	})
}

// testCassandra is the world's must-show: a two-rack datacenter applied by
// hand becomes a ring of two nodes Up/Normal, one pod after the other; a
// crashed node is seen down by the other; a killed container restarts; a
// deleted pod comes back with its data; scaling a rack to zero stops its
// node gracefully.
func testCassandra(t *testing.T, w *env.World) {
	r := w.Region("eu-west")
	c := newTinyCluster()
	ctx := t.Context()
	applyTiny(t, r.Client, c)
	order := watchReadyOrder(t, r.Client, c.Namespace, 2)

	r1, r2 := c.podName("r1", 0), c.podName("r2", 0)
	if got := <-order; !slices.Equal(got, []string{r1, r2}) {
		t.Fatalf("pods became ready in order %v, want %v (the seed first)", got, []string{r1, r2})
	}
	ips := waitRingUp(t, r.Client, c, r1, r2)

	t.Run("a crashed node is DN from the other", func(t *testing.T) {
		r.Kubelet.SetFault(c.Namespace, r2, kubelet.CrashLoop)
		waitView(t, ips[r1], c, "r2 unreachable from r1", func(v ringView) bool {
			return v.Mode == "NORMAL" && slices.Equal(v.Unreachable, []string{ips[r2]}) && slices.Equal(v.Live, []string{ips[r1]})
		})
		eventually(t, waitLimit, "r2 not ready, crash-looping", func() (bool, string) {
			p, err := getPod(r.Client, c.Namespace, r2)
			if err != nil {
				return false, err.Error()
			}
			cs := cassandraStatus(p)
			waiting := cs.State.Waiting != nil && cs.State.Waiting.Reason == "CrashLoopBackOff"
			return !podReady(p) && waiting && cs.RestartCount >= 1, fmt.Sprintf("ready %t, state %+v, restarts %d", podReady(p), cs.State, cs.RestartCount)
		})
		r.Kubelet.SetFault(c.Namespace, r2, kubelet.NoFault)
		ips = waitRingUp(t, r.Client, c, r1, r2)
	})

	t.Run("a killed container restarts", func(t *testing.T) {
		p, err := getPod(r.Client, c.Namespace, r1)
		if err != nil {
			t.Fatal(err)
		}
		before := cassandraStatus(p).RestartCount
		if err := r.Kubelet.Kill(c.Namespace, r1); err != nil {
			t.Fatal(err)
		}
		eventually(t, waitLimit, "r1 restarted and ready", func() (bool, string) {
			p, err := getPod(r.Client, c.Namespace, r1)
			if err != nil {
				return false, err.Error()
			}
			cs := cassandraStatus(p)
			last := cs.LastTerminationState.Terminated
			return podReady(p) && cs.RestartCount == before+1 && last != nil && last.ExitCode == 137,
				fmt.Sprintf("ready %t, restarts %d (before %d), last %+v", podReady(p), cs.RestartCount, before, last)
		})
		ips = waitRingUp(t, r.Client, c, r1, r2)
	})

	t.Run("a deleted pod is recreated with its data", func(t *testing.T) {
		old, err := getPod(r.Client, c.Namespace, r1)
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Client.CoreV1().Pods(c.Namespace).Delete(ctx, r1, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, waitLimit, "r1 recreated and ready", func() (bool, string) {
			p, err := getPod(r.Client, c.Namespace, r1)
			if err != nil {
				return false, err.Error()
			}
			return p.UID != old.UID && podReady(p), fmt.Sprintf("uid changed %t, ready %t", p.UID != old.UID, podReady(p))
		})
		ips = waitRingUp(t, r.Client, c, r1, r2)
		if ring := w.Sim.Ring(c.Name); len(ring) != 2 {
			t.Fatalf("ring has %d members after the pod's recreation, want 2 (same data, same host): %+v", len(ring), ring)
		}
	})

	t.Run("scaling a rack to zero stops its node gracefully", func(t *testing.T) {
		events := watchPod(t, r.Client, c.Namespace, r2)
		scale(t, r.Client, c.Namespace, c.statefulSetName("r2"), 0)
		sawStopped := false
		for ev := range events {
			p, ok := ev.Object.(*corev1.Pod)
			if !ok {
				t.Logf("watch %s: %v", ev.Type, ev.Object)
				continue
			}
			term := cassandraStatus(p).State.Terminated
			t.Logf("%s %s: phase %s, deleting %t, terminated %+v", ev.Type, p.Name, p.Status.Phase, p.DeletionTimestamp != nil, term)
			if ev.Type == watch.Deleted {
				break
			}
			if term != nil && p.DeletionTimestamp != nil {
				sawStopped = term.ExitCode == 0
			}
		}
		if !sawStopped {
			t.Fatalf("pod %s was deleted without its container being stopped gracefully (exit code 0)", r2)
		}
		waitView(t, ips[r1], c, "r2 down, still a ring member (not decommissioned)", func(v ringView) bool {
			return slices.Equal(v.Unreachable, []string{ips[r2]}) && slices.Equal(v.Live, []string{ips[r1]})
		})
	})
}

func applyTiny(t *testing.T, client kubernetes.Interface, c tinyCluster) {
	ctx := t.Context()
	if _, err := client.CoreV1().Namespaces().Create(ctx, c.namespace(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLimit, "default service account in "+c.Namespace, func() (bool, string) {
		_, err := client.CoreV1().ServiceAccounts(c.Namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	if _, err := client.CoreV1().Secrets(c.Namespace).Create(ctx, c.secret(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.CoreV1().Services(c.Namespace).Create(ctx, c.service(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, rack := range c.Racks {
		if _, err := client.AppsV1().StatefulSets(c.Namespace).Create(ctx, c.statefulSet(rack, 1), metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// watchReadyOrder reports the names of the first n pods of the namespace
// to become Ready, in the order they did.
func watchReadyOrder(t *testing.T, client kubernetes.Interface, ns string, n int) <-chan []string {
	w, err := client.CoreV1().Pods(ns).Watch(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := make(chan []string, 1)
	go func() {
		defer w.Stop()
		var order []string
		timeout := time.After(waitLimit)
		for len(order) < n {
			select {
			case ev, ok := <-w.ResultChan():
				if !ok {
					out <- order
					return
				}
				if p, isPod := ev.Object.(*corev1.Pod); isPod && podReady(p) && !slices.Contains(order, p.Name) {
					order = append(order, p.Name)
				}
			case <-timeout:
				out <- order
				return
			}
		}
		out <- order
	}()
	return out
}

func watchPod(t *testing.T, client kubernetes.Interface, ns, name string) <-chan watch.Event {
	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	t.Cleanup(cancel)
	w, err := client.CoreV1().Pods(ns).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return w.ResultChan()
}

// scale sets a StatefulSet's replicas, read again when the controller
// wrote its status in between (a conflict).
func scale(t testing.TB, client kubernetes.Interface, ns, name string, replicas int32) {
	t.Helper()
	err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		s, err := client.AppsV1().StatefulSets(ns).GetScale(t.Context(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		s.Spec.Replicas = replicas
		_, err = client.AppsV1().StatefulSets(ns).UpdateScale(t.Context(), name, s, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitRingUp waits until both pods are ready and each one's Jolokia shows
// both nodes Up and Normal; it returns the pods' IPs.
func waitRingUp(t *testing.T, client kubernetes.Interface, c tinyCluster, pods ...string) map[string]string {
	t.Helper()
	ips := map[string]string{}
	eventually(t, waitLimit, "pods ready", func() (bool, string) {
		for _, name := range pods {
			p, err := getPod(client, c.Namespace, name)
			if err != nil || !podReady(p) {
				return false, fmt.Sprintf("%s not ready (%v)", name, err)
			}
			ips[name] = p.Status.PodIP
		}
		return true, ""
	})
	var want []string
	for _, ip := range ips {
		want = append(want, ip)
	}
	slices.Sort(want)
	for _, name := range pods {
		waitView(t, ips[name], c, fmt.Sprintf("%d nodes UN seen from %s", len(pods), name), func(v ringView) bool {
			return v.Mode == "NORMAL" && slices.Equal(v.Live, want) && len(v.Unreachable) == 0 &&
				len(v.Joining) == 0 && len(v.Leaving) == 0
		})
	}
	return ips
}

func waitView(t *testing.T, ip string, c tinyCluster, what string, ok func(ringView) bool) {
	t.Helper()
	eventually(t, waitLimit, what, func() (bool, string) {
		v, err := readRing(ip, c.JolokiaPort, c.User, c.Password)
		if err != nil {
			return false, err.Error()
		}
		return ok(v), v.String()
	})
}

// testFaults: in us-east, a datacenter whose Jolokia secret is missing
// waits in CreateContainerConfigError until the secret exists; a pod with
// NeverReady runs and joins the ring but never becomes Ready; a pod with
// Unschedulable stays Pending until the fault is cleared.
func testFaults(t *testing.T, w *env.World) {
	r := w.Region("us-east")
	ctx := t.Context()
	c := newTinyCluster()
	c.Name, c.DC, c.Racks, c.Seeds = "faulty", "dc2", []string{"r1"}, []string{"faulty-dc2-r1-0"}
	r0, r1 := c.podName("r1", 0), c.podName("r1", 1)

	if _, err := r.Client.CoreV1().Namespaces().Create(ctx, c.namespace(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, waitLimit, "default service account", func() (bool, string) {
		_, err := r.Client.CoreV1().ServiceAccounts(c.Namespace).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err)
	})
	if _, err := r.Client.AppsV1().StatefulSets(c.Namespace).Create(ctx, c.statefulSet("r1", 1), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitContainer(t, r.Client, c.Namespace, r0, "CreateContainerConfigError without the secret", func(p *corev1.Pod) bool {
		w := cassandraStatus(p).State.Waiting
		return w != nil && w.Reason == "CreateContainerConfigError" && !podReady(p)
	})
	if _, err := r.Client.CoreV1().Secrets(c.Namespace).Create(ctx, c.secret(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitContainer(t, r.Client, c.Namespace, r0, "ready once the secret exists", podReady)

	r.Kubelet.SetFault(c.Namespace, r1, kubelet.Unschedulable)
	scale(t, r.Client, c.Namespace, c.statefulSetName("r1"), 2)
	waitContainer(t, r.Client, c.Namespace, r1, "Pending and Unschedulable", func(p *corev1.Pod) bool {
		cond, ok := podCondition(p, corev1.PodScheduled)
		return ok && cond.Status == corev1.ConditionFalse && cond.Reason == corev1.PodReasonUnschedulable &&
			p.Status.Phase == corev1.PodPending && p.Spec.NodeName == ""
	})

	r.Kubelet.SetFault(c.Namespace, r1, kubelet.NeverReady)
	p0, err := getPod(r.Client, c.Namespace, r0)
	if err != nil {
		t.Fatal(err)
	}
	var ip1 string
	waitContainer(t, r.Client, c.Namespace, r1, "scheduled and running", func(p *corev1.Pod) bool {
		ip1 = p.Status.PodIP
		return p.Status.Phase == corev1.PodRunning && cassandraStatus(p).State.Running != nil
	})
	want := []string{p0.Status.PodIP, ip1}
	slices.Sort(want)
	waitView(t, p0.Status.PodIP, c, "the NeverReady node joined the ring", func(v ringView) bool {
		return slices.Equal(v.Live, want) && len(v.Joining) == 0 && len(v.Unreachable) == 0
	})
	if p, err := getPod(r.Client, c.Namespace, r1); err != nil || podReady(p) {
		t.Fatalf("pod %s with NeverReady: ready %t (%v), want not ready", r1, err == nil && podReady(p), err)
	}
	r.Kubelet.SetFault(c.Namespace, r1, kubelet.NoFault)
	waitContainer(t, r.Client, c.Namespace, r1, "ready once the fault is cleared", podReady)
}

func waitContainer(t *testing.T, client kubernetes.Interface, ns, name, what string, ok func(*corev1.Pod) bool) {
	t.Helper()
	eventually(t, waitLimit, name+": "+what, func() (bool, string) {
		p, err := getPod(client, ns, name)
		if err != nil {
			return false, err.Error()
		}
		return ok(p), fmt.Sprintf("phase %s, node %q, conditions %v, cassandra %+v",
			p.Status.Phase, p.Spec.NodeName, p.Status.Conditions, cassandraStatus(p).State)
	})
}
