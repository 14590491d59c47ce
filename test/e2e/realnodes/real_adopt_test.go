package realnodes

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env/cqldata"
	"github.com/ringops/ringops/test/gitserver"
)

// adoptKeyspace holds the rows of TestRealAdoption: two replicas in dc1,
// one on each node, so that a read at ALL asks both.
const adoptKeyspace = "adopt_rf2"

// adoptRows is how many rows TestRealAdoption writes.
const adoptRows = 200

// adoptImage is the image the adopted cluster rolls to: the same
// cassandra:5.0.9, pinned by digest (a change of image that keeps the
// version, as a team that pins its images makes; the local world runs
// every Cassandra image with its one 5.0.9 build, so a new version would
// only be a new name).
const adoptImage = "cassandra:5.0.9@sha256:9f3c5e1d2b7a4c6e8f0a1b3d5c7e9f2a4b6c8d0e1f3a5b7c9d2e4f6a8b0c1d3e"

// TestRealAdoption (#20): ringops takes over a ring CassKop made, in
// place. A CassandraCluster and what CassKop's controller creates for it
// (casskop_objects_test.go) run two real Cassandra 5.0 nodes in the
// first region, with rows at RF 2; `ringops import --from-cluster` writes
// the repository; `ringops apply` refuses while CassKop's operator runs,
// then, once it is scaled to 0, takes the StatefulSets over without
// restarting a pod (same pod UIDs, container start times and JVMs), the
// ring healthy and every row readable; an image change then rolls the
// pods the ringops way, one at a time. The steps depend on each other:
// the first failure ends the test.
func TestRealAdoption(t *testing.T) {
	w := realWorld(t)
	region := w.Regions()[0]
	c := newRealCluster(t, w, "kop")
	k := newCasskopRing(t, w, region, "kop")
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	var before map[string]runningNode
	selectors := map[string]*metav1.LabelSelector{}
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"CassKop's ring: its CassandraCluster, then one rack after the other", func(t *testing.T) {
			start := time.Now()
			k.create(t)
			t.Logf("CassKop's ring of %d nodes up in %s", len(k.podNames()), time.Since(start).Round(time.Second))
			for _, sts := range k.set.StatefulSets {
				live, err := region.Client.AppsV1().StatefulSets("cassandra").Get(t.Context(), sts.Name, metav1.GetOptions{})
				if err != nil {
					t.Fatal(err)
				}
				selectors[sts.Name] = live.Spec.Selector
			}
		}},
		{"rows at RF 2 written and read back, logged in as CassKop leaves it", func(t *testing.T) {
			for _, p := range k.pods(t) {
				if _, err := login(p.Status.PodIP, "dc1", "", ""); err == nil || !strings.Contains(err.Error(), "authentication required") {
					t.Errorf("%s: a client without credentials: %v; want it refused (PasswordAuthenticator, as the CassandraCluster's config says)", p.Name, err)
				}
			}
			s := k.session(t)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			if err := s.CreateKeyspace(ctx, adoptKeyspace, map[string]int{"dc1": 2}); err != nil {
				t.Fatal(err)
			}
			if err := s.Write(ctx, adoptKeyspace, 0, adoptRows, gocql.All); err != nil {
				t.Fatal(err)
			}
			k.readAll(t)
			before = k.running(t)
			t.Logf("running before the import: %v", before)
		}},
		{"ringops import --from-cluster writes the repository", func(t *testing.T) {
			repo.Write(map[string]string{"README.md": "clusters run by ringops\n"})
			repo.Commit("an empty repository")
			r := harness.Ringops(t, 2*time.Minute, "import", "--from-cluster", "--kubeconfig", w.Kubeconfig,
				"--context", region.Name, "-n", "cassandra", "-o", repo.Work)
			if r.Code != 1 {
				t.Fatalf("import: exit %d, want 1 (carried with warnings: CassKop's operator runs)", r.Code)
			}
			c.dir = filepath.Join(repo.Work, "clusters", "kop")
			spec := readLog(t, filepath.Join(c.dir, "cluster.yaml"))
			report := readLog(t, filepath.Join(c.dir, "IMPORT.md"))
			t.Logf("cluster.yaml:\n%s\nIMPORT.md:\n%s", spec, report)
			for _, want := range []string{"image: cassandra:5.0.9", "context: " + region.Name, "dnsDomain: kop.cassandra", "authenticator: PasswordAuthenticator"} {
				if !strings.Contains(spec, want) {
					t.Errorf("cluster.yaml lacks %q", want)
				}
			}
			if !strings.Contains(report, "casskop:v2.1.0) runs, 1 replica") {
				t.Errorf("IMPORT.md does not say that CassKop's operator runs")
			}
			if r := harness.Ringops(t, time.Minute, "validate", repo.Work); r.Code != 0 {
				t.Fatalf("validate: exit %d", r.Code)
			}
			repo.Commit("import kop from CassKop")
		}},
		{"plan and diff say the StatefulSets are adopted, no pod restarts", func(t *testing.T) {
			plan := harness.Ringops(t, 2*time.Minute, "plan", "--base", "HEAD~1", repo.Work)
			if len(harness.Lines(plan.Stdout, "adopts 2 StatefulSets in place where CassKop runs them, 0 restarts")) == 0 {
				t.Errorf("plan does not say it adopts the 2 StatefulSets in place, 0 restarts")
			}
			if bootstraps := harness.Lines(plan.Stdout, "bootstrap"); len(slices.DeleteFunc(bootstraps, isYAML)) > 0 {
				t.Errorf("plan of the imported cluster bootstraps nodes:\n%s", strings.Join(bootstraps, "\n"))
			}
			r := harness.Ringops(t, 2*time.Minute, "diff", c.dir, "--kubeconfig", w.Kubeconfig)
			if r.Code != 1 {
				t.Errorf("diff: exit %d, want 1 (differences)", r.Code)
			}
			if len(harness.Lines(r.Stdout, "adopts 2 StatefulSets", "0 restarts")) == 0 {
				t.Errorf("diff does not say it adopts 2 StatefulSets with 0 restarts")
			}
			k.unchanged(t, before, "diff")
		}},
		{"apply refuses while CassKop's operator runs, and changes nothing", func(t *testing.T) {
			r := harness.Ringops(t, 3*time.Minute, "apply", c.dir, "--kubeconfig", w.Kubeconfig, "--wait", "-v", "--timeout", "2m")
			out := r.Stdout + r.Stderr
			if r.Code != 5 {
				t.Fatalf("apply while CassKop's operator runs: exit %d, want 5 (blocked: needs a human)", r.Code)
			}
			if len(harness.Lines(out, "kubectl --context eu-west -n cassandra scale deployment casskop --replicas=0")) == 0 {
				t.Errorf("apply does not name the Deployment casskop and how to stop it (kubectl scale ... --replicas=0)")
			}
			k.stillCasskops(t)
			k.unchanged(t, before, "the refused apply")
			k.scaleOperator(t, 0)
		}},
		{"apply adopts the StatefulSets in place: no pod restarts", func(t *testing.T) {
			start := time.Now()
			c.apply(t, 10*time.Minute)
			t.Logf("adopted in %s", time.Since(start).Round(time.Second))
			k.unchanged(t, before, "the adoption")
			k.adopted(t, selectors)
			k.waitUN(t, k.podNames(), time.Minute)
			k.readAll(t)
			nodes, r := c.ringopsStatus(t)
			if r.Code != 0 || len(nodes) != len(before) {
				t.Errorf("ringops status: exit %d, %d nodes, want 0 and %d", r.Code, len(nodes), len(before))
			}
			for _, n := range nodes {
				if n.State != "UN" {
					t.Errorf("ringops status: %s is %s", n.Node.Pod, n.State)
				}
			}
		}},
		{"an image change rolls the pods the ringops way, one at a time", func(t *testing.T) {
			spec := filepath.Join(c.dir, "cluster.yaml")
			old := readLog(t, spec)
			c.prev = filepath.Join(t.TempDir(), "kop.previous.yaml")
			if err := os.WriteFile(c.prev, []byte(old), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(spec, []byte(strings.Replace(old, "image: cassandra:5.0.9", "image: "+adoptImage, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			repo.Commit("kop: pin cassandra by digest")
			plan := harness.Ringops(t, 2*time.Minute, "plan", "--base", "HEAD~1", repo.Work)
			t.Logf("plan: exit %d", plan.Code)
			watch := k.watchReadiness(t)
			start := time.Now()
			c.apply(t, 15*time.Minute)
			down := watch()
			t.Logf("rolled %d nodes in %s", len(before), time.Since(start).Round(time.Second))
			if down > 1 {
				t.Errorf("%d nodes were down at once during the roll, want 1 at most", down)
			}
			after := k.running(t)
			for pod, b := range before {
				a, ok := after[pod]
				switch {
				case !ok:
					t.Errorf("%s: no pod after the roll", pod)
				case a.UID == b.UID || a.Pid == b.Pid:
					t.Errorf("%s was not restarted by the roll: before %v, after %v", pod, b, a)
				}
			}
			for _, p := range k.pods(t) {
				if img := containerImage(p, "cassandra"); img != adoptImage {
					t.Errorf("%s runs %s, want %s", p.Name, img, adoptImage)
				}
			}
			k.adopted(t, selectors)
			k.waitUN(t, k.podNames(), time.Minute)
			k.readAll(t)
		}},
	}
	for _, s := range steps {
		if !t.Run(s.name, s.run) {
			t.Fatalf("step %q failed: the later steps depend on it", s.name)
		}
	}
}

// runningNode is what shows that a node was not restarted: its pod, its
// container's start and its JVM.
type runningNode struct {
	UID      types.UID
	IP       string
	Started  time.Time // status.containerStatuses[cassandra].state.running.startedAt
	Restarts int32
	Pid      int
	JVMStart time.Time
}

// same reports whether n and o are the same node, never restarted.
func (n runningNode) same(o runningNode) bool {
	return n.UID == o.UID && n.IP == o.IP && n.Started.Equal(o.Started) && n.Restarts == o.Restarts &&
		n.Pid == o.Pid && n.JVMStart.Equal(o.JVMStart)
}

func (n runningNode) String() string {
	return fmt.Sprintf("{pod %s, IP %s, started %s, %d restarts, JVM %d started %s}",
		n.UID, n.IP, n.Started.Format(time.RFC3339), n.Restarts, n.Pid, n.JVMStart.Format(time.RFC3339Nano))
}

// running records the ring's running nodes, by pod.
func (k *casskopRing) running(t *testing.T) map[string]runningNode {
	t.Helper()
	out := map[string]runningNode{}
	for _, p := range k.pods(t) {
		n := runningNode{UID: p.UID, IP: p.Status.PodIP}
		for _, cs := range p.Status.ContainerStatuses {
			if cs.Name == "cassandra" {
				n.Restarts = cs.RestartCount
				if cs.State.Running != nil {
					n.Started = cs.State.Running.StartedAt.Time
				}
			}
		}
		if jvm := k.node(p.Name); jvm != nil {
			n.Pid, n.JVMStart = jvm.Pid(), jvm.StartedAt()
		}
		out[p.Name] = n
	}
	if got := slices.Sorted(maps.Keys(out)); !slices.Equal(got, k.podNames()) {
		t.Fatalf("pods %v, want %v", got, k.podNames())
	}
	return out
}

// unchanged checks that every node of before still runs, not restarted.
func (k *casskopRing) unchanged(t *testing.T, before map[string]runningNode, after string) {
	t.Helper()
	now := k.running(t)
	for pod, b := range before {
		if n := now[pod]; !n.same(b) {
			t.Errorf("%s restarted by %s: before %v, now %v", pod, after, b, n)
		}
	}
}

// stillCasskops checks that the StatefulSets are still CassKop's: owned
// by the CassandraCluster, not labelled as ringops'.
func (k *casskopRing) stillCasskops(t *testing.T) {
	t.Helper()
	for _, want := range k.set.StatefulSets {
		sts, err := k.region.Client.AppsV1().StatefulSets(k.cc.Namespace).Get(t.Context(), want.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if owner(sts) == "" || sts.Labels["app.kubernetes.io/managed-by"] != "" {
			t.Errorf("statefulset %s changed: owner %q, labels %v", sts.Name, owner(sts), sts.Labels)
		}
	}
}

// adopted checks that the StatefulSets are ringops' now (labelled so, no
// owner CassandraCluster) and still select the pods by CassKop's labels
// (selectors, recorded when CassKop made them), and that the headless
// Service <cluster> still selects the running pods (their DNS names).
func (k *casskopRing) adopted(t *testing.T, selectors map[string]*metav1.LabelSelector) {
	t.Helper()
	for _, want := range k.set.StatefulSets {
		sts, err := k.region.Client.AppsV1().StatefulSets(k.cc.Namespace).Get(t.Context(), want.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if m := sts.Labels["app.kubernetes.io/managed-by"]; m != "ringops" {
			t.Errorf("statefulset %s: label app.kubernetes.io/managed-by=%q, want ringops", sts.Name, m)
		}
		if o := owner(sts); o != "" {
			t.Errorf("statefulset %s: still owned by %s", sts.Name, o)
		}
		if got := metav1.FormatLabelSelector(sts.Spec.Selector); got != metav1.FormatLabelSelector(selectors[sts.Name]) {
			t.Errorf("statefulset %s: selector %s, CassKop's was %s", sts.Name, got, metav1.FormatLabelSelector(selectors[sts.Name]))
		}
	}
	svc, err := k.region.Client.CoreV1().Services(k.cc.Namespace).Get(t.Context(), k.cc.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the headless Service %s: %v", k.cc.Name, err)
	}
	sel := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: svc.Spec.Selector})
	l, err := k.region.Client.CoreV1().Pods(k.cc.Namespace).List(t.Context(), metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		t.Fatal(err)
	}
	var selected []string
	for _, p := range l.Items {
		selected = append(selected, p.Name)
	}
	if slices.Sort(selected); !slices.Equal(selected, k.podNames()) {
		t.Errorf("the headless Service %s selects %v (selector %s), want the ring's pods %v: their DNS names would go", k.cc.Name, selected, sel, k.podNames())
	}
}

// owner names the CassandraCluster that owns an object, "" if none does.
func owner(sts *appsv1.StatefulSet) string {
	for _, o := range sts.OwnerReferences {
		if o.Kind == "CassandraCluster" {
			return o.APIVersion + " " + o.Name
		}
	}
	return ""
}

// scaleOperator scales CassKop's operator Deployment as `kubectl scale`
// does, and waits until it runs that many pods.
func (k *casskopRing) scaleOperator(t *testing.T, replicas int32) {
	t.Helper()
	deps := k.region.Client.AppsV1().Deployments(k.cc.Namespace)
	sc, err := deps.GetScale(t.Context(), "casskop", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Spec.Replicas = replicas
	if _, err := deps.UpdateScale(t.Context(), "casskop", sc, metav1.UpdateOptions{FieldManager: "kubectl"}); err != nil {
		t.Fatal(err)
	}
	harness.WaitFor(t, 2*time.Minute, fmt.Sprintf("deployment casskop at %d replicas", replicas), func() error {
		d, err := deps.Get(t.Context(), "casskop", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if d.Status.Replicas != replicas {
			return fmt.Errorf("%d replicas", d.Status.Replicas)
		}
		return nil
	})
}

// session opens a CQL session on the ring's nodes, logged in as ringops'
// role once ringops keeps one (the Secret <cluster>-cql), else as
// Cassandra's default superuser, which CassKop leaves.
func (k *casskopRing) session(t *testing.T) *cqldata.Session {
	t.Helper()
	user, password := "cassandra", "cassandra"
	s, err := k.region.Client.CoreV1().Secrets(k.cc.Namespace).Get(t.Context(), k.cc.Name+"-cql", metav1.GetOptions{})
	switch {
	case err == nil:
		user, password = string(s.Data["username"]), string(s.Data["password"])
	case !apierrors.IsNotFound(err):
		t.Fatal(err)
	}
	var hosts []string
	for _, p := range k.pods(t) {
		if p.Status.PodIP != "" {
			hosts = append(hosts, p.Status.PodIP)
		}
	}
	var last error
	for range 10 { // a node that just turned Ready may take a moment to accept CQL
		sess, err := cqldata.DialAs("dc1", user, password, hosts...)
		if err == nil {
			t.Cleanup(sess.Close)
			return sess
		}
		last = err
		time.Sleep(3 * time.Second)
	}
	t.Fatalf("as %s: %v", user, last)
	return nil
}

// readAll reads every row at ALL: both replicas answer, and agree.
func (k *casskopRing) readAll(t *testing.T) {
	t.Helper()
	s := k.session(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	if missing, err := s.Missing(ctx, adoptKeyspace, 0, adoptRows, gocql.All); len(missing) > 0 {
		t.Errorf("%d of %d rows not readable at ALL (first: %v; error: %v)", len(missing), adoptRows, missing[:min(10, len(missing))], err)
	}
}

// watchReadiness samples the ring's pods every half second until the
// returned function is called, which returns the most nodes that were
// down at once: pods missing, terminating or not Ready.
func (k *casskopRing) watchReadiness(t *testing.T) func() int {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	var (
		mu   sync.Mutex
		most int
		wg   sync.WaitGroup
	)
	want := len(k.podNames())
	wg.Go(func() {
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			l, err := k.region.Client.CoreV1().Pods(k.cc.Namespace).List(ctx, metav1.ListOptions{LabelSelector: k.cc.selector()})
			if err == nil {
				ready := 0
				for i := range l.Items {
					if p := &l.Items[i]; p.DeletionTimestamp == nil && podReady(p) {
						ready++
					}
				}
				mu.Lock()
				most = max(most, want-ready)
				mu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return func() int {
		cancel()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		return most
	}
}

func containerImage(p corev1.Pod, name string) string {
	for _, c := range p.Spec.Containers {
		if c.Name == name {
			return c.Image
		}
	}
	return ""
}

// isYAML: a line of the rendered YAML plan prints (its diff), not one of
// its operations ("kop: ...").
func isYAML(line string) bool { return !strings.HasPrefix(strings.TrimSpace(line), "kop:") }
