package env_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/internal/proc"
	"github.com/ringops/ringops/test/env/realcassandra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// BenchmarkStartWorld measures the warm start of a three-region world
// (binaries already built): from StartWorld to every control plane ready
// and every kubelet running. Stopping is not timed.
//
//	go test ./test/env -run '^$' -bench StartWorld -benchtime 5x
func BenchmarkStartWorld(b *testing.B) {
	opts := env.DefaultOptions()
	for b.Loop() {
		w, err := env.StartWorld(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := w.Stop(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkWorldMemory reports the resident memory of a three-region world
// running one Cassandra ring of 3 datacenters x 3 racks x 3 nodes (9 pods
// per region, all Ready and Up/Normal): the sum over etcd, kube-apiserver,
// kube-controller-manager and the test process (kubelets and simulator).
// Its time per op is the time from StartWorld to the 27 pods Ready (with
// 200ms bootstraps), so one iteration is enough; settling, measuring and
// stopping are not timed.
//
//	go test ./test/env -run '^$' -bench WorldMemory -benchtime 1x
func BenchmarkWorldMemory(b *testing.B) {
	for range b.N { // not b.Loop: the timer is stopped around settling and stopping
		b.StartTimer()
		st := worldMemory(b)
		b.ReportMetric(float64(st.Total)/(1<<20), "rss-MiB")
		b.ReportMetric(float64(st.Self)/(1<<20), "test-process-MiB")
		for _, component := range []string{"etcd", "kube-apiserver", "kube-controller-manager"} {
			var sum int64
			for _, p := range st.Processes {
				if strings.HasSuffix(p.Name, "/"+component) {
					sum += p.RSS
				}
			}
			b.ReportMetric(float64(sum)/(1<<20), component+"-MiB")
		}
	}
}

func worldMemory(b *testing.B) env.Stats {
	opts := env.DefaultOptions()
	opts.Cassandra.BootstrapTime = 200 * time.Millisecond
	w, err := env.StartWorld(context.Background(), opts)
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = w.Stop() }() // timer stopped below
	racks := []string{"r1", "r2", "r3"}
	var seeds []string
	for _, rack := range racks {
		seeds = append(seeds, fmt.Sprintf("bench-dc-eu-west-%s-0", rack))
	}
	for _, r := range w.Regions() {
		c := newTinyCluster()
		c.Name, c.DC, c.Racks, c.Seeds = "bench", "dc-"+r.Name, racks, seeds
		if err := applyCluster(r.Client, c, 3); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Minute)
	for !allReady(w, 9) {
		if time.Now().After(deadline) {
			b.Fatal("27 pods not ready after 5 minutes")
		}
		time.Sleep(time.Second)
	}
	if ring := w.Sim.Ring("bench"); len(ring) != 27 {
		b.Fatalf("ring has %d members, want 27", len(ring))
	}
	b.StopTimer()
	time.Sleep(5 * time.Second) // settle: informers synced, caches warm
	st, err := w.Stats()
	if err != nil {
		b.Fatal(err)
	}
	return st
}

func applyCluster(client kubernetes.Interface, c tinyCluster, replicas int32) error {
	ctx := context.Background()
	if _, err := client.CoreV1().Namespaces().Create(ctx, c.namespace(), metav1.CreateOptions{}); err != nil {
		return err
	}
	for {
		if _, err := client.CoreV1().ServiceAccounts(c.Namespace).Get(ctx, "default", metav1.GetOptions{}); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := client.CoreV1().Secrets(c.Namespace).Create(ctx, c.secret(), metav1.CreateOptions{}); err != nil {
		return err
	}
	if _, err := client.CoreV1().Services(c.Namespace).Create(ctx, c.service(), metav1.CreateOptions{}); err != nil {
		return err
	}
	for _, rack := range c.Racks {
		if _, err := client.AppsV1().StatefulSets(c.Namespace).Create(ctx, c.statefulSet(rack, replicas), metav1.CreateOptions{}); err != nil {
			return err
		}
	}
	return nil
}

func allReady(w *env.World, perRegion int) bool {
	for _, r := range w.Regions() {
		pods, err := r.Client.CoreV1().Pods("cassandra").List(context.Background(), metav1.ListOptions{})
		if err != nil {
			return false
		}
		ready := 0
		for i := range pods.Items {
			if podReady(&pods.Items[i]) {
				ready++
			}
		}
		if ready < perRegion {
			return false
		}
	}
	return true
}

// BenchmarkRealNode measures real Cassandra 5.0 nodes of the local world
// (one region, the rendered pods of a two-rack datacenter): the seed's JVM
// start to OperationMode NORMAL and to the pod Ready (NORMAL and CQL
// served, probed every second), the second node's JVM start to NORMAL (a
// bootstrap: announce, RING_DELAY, stream) and to Ready, the processor
// time each JVM used until Ready (what decides how long starts take on a
// busy machine), and each JVM's resident memory once both are Ready. RINGOPS_REAL_JVM_OPTIONS adds JVM
// options (space-separated) to every node, to compare settings.
//
//	go test ./test/env -run '^$' -bench RealNode -benchtime 1x -count 3
func BenchmarkRealNode(b *testing.B) {
	for range b.N {
		opts := env.RealOptions()
		opts.Regions = []string{"eu-west"}
		if extra := strings.Fields(os.Getenv("RINGOPS_REAL_JVM_OPTIONS")); len(extra) > 0 {
			opts.Real = &realcassandra.Options{JVMOptions: append(append([]string(nil), realcassandra.DefaultJVMOptions...), extra...)}
		}
		w, err := env.StartWorld(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		r := w.Region("eu-west")
		if _, err := r.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{}); err != nil {
			b.Fatal(err)
		}
		dyn := dynamic.NewForConfigOrDie(r.Config)
		for _, o := range renderReal(b, realSpec, "eu-west") {
			if o.GetKind() == "StatefulSet" {
				_ = unstructured.SetNestedField(o.Object, int64(0), "spec", "replicas")
			}
			applyObject(b, dyn, o)
		}
		for _, step := range []struct{ sts, pod, metric string }{
			{"tiny-dc1-r1", "tiny-dc1-r1-0", "seed"}, {"tiny-dc1-r2", "tiny-dc1-r2-0", "bootstrap"},
		} {
			scaleTo(b, r, step.sts, 1)
			var n *realcassandra.Container
			eventually(b, 3*time.Minute, step.pod+" JVM started", func() (bool, string) {
				n = w.Real.Node("eu-west", "cassandra", step.pod)
				return n != nil, ""
			})
			var normal time.Time
			eventually(b, 3*time.Minute, step.pod+" NORMAL", func() (bool, string) {
				m := n.Mode()
				if m == "NORMAL" && normal.IsZero() {
					normal = time.Now()
				}
				return m == "NORMAL", m
			})
			waitReady(b, r, step.pod, 3*time.Minute)
			cpu, err := proc.CPU(n.Pid())
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(cpu.Seconds(), step.metric+"-cpu-to-Ready-s")
			b.ReportMetric(normal.Sub(n.StartedAt()).Seconds(), step.metric+"-to-NORMAL-s")
			b.ReportMetric(time.Since(n.StartedAt()).Seconds(), step.metric+"-to-Ready-s")
		}
		time.Sleep(10 * time.Second)
		var total int64
		for _, n := range w.Real.Nodes() {
			rss, err := proc.RSS(n.Pid())
			if err != nil {
				b.Fatal(err)
			}
			total += rss
		}
		b.ReportMetric(float64(total)/2/(1<<20), "rss-MiB/node")
		if err := w.Stop(); err != nil {
			b.Fatal(err)
		}
	}
}
