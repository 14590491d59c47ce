package e2e

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/kubelet"
)

var (
	propSeeds  = flag.Int("e2e.seeds", 2, "TestPropertyRollout: how many seeds to run")
	propEvents = flag.Int("e2e.events", 4, "TestPropertyRollout: events (a spec change, maybe with a fault) per seed")
)

// TestPropertyRollout draws, per seed, a random sequence of spec changes
// (a rack scaled up or down by one, an image bump, a new rack, another
// settle) each rolled out by `ringops apply --wait` while a random fault
// hits the world (a node killed, a pod never Ready for a while, the API
// server of the non-seed region down for a while, a node's Jolokia slower
// than the client's timeout for a while), then healed. After every change
// it checks the invariants against the simulator's ground truth: one
// disruptive step at a time, none started on an unhealthy ring, replicas
// by one, no replica removed before its node left the ring, the seed
// datacenter bootstrapped first, no node but the ring's first joined as its
// own seed (skipping its bootstrap), nothing holding data deleted, and a
// final `ringops apply --wait` that converges to a healthy ring.
func TestPropertyRollout(t *testing.T) {
	w := sharedWorld(t)
	for i := range *propSeeds {
		seed := uint64(1000 + i)
		if !t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { propertyRun(t, w, seed) }) {
			t.FailNow()
		}
	}
}

// propSpec is the small cluster a property run edits: dc1 (seed) in
// eu-west, dc2 in us-east, replication factor 1.
type propSpec struct {
	name   string
	image  int // cassandra:4.1.<image>
	settle string
	racks  [2][]int // nodes per rack, per datacenter
}

func (s propSpec) yaml() string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata:
  name: %s
  namespace: cassandra
spec:
  image: cassandra:4.1.%d
  nodesPerRack: 1
  resources:
    requests: {cpu: 100m, memory: 1Gi}
  storage:
    size: 1Gi
  rollout:
    healthTimeout: 30m
    settle: %s
  datacenters:
`, s.name, s.image, s.settle)
	for d, ctx := range []string{"eu-west", "us-east"} {
		fmt.Fprintf(&b, "    - name: dc%d\n      context: %s\n      dnsDomain: dc%d.%s.db.example.com\n      replicationFactor: 1\n      racks:\n", d+1, ctx, d+1, s.name)
		for r, n := range s.racks[d] {
			fmt.Fprintf(&b, "        - name: r%d\n          nodes: %d\n", r+1, n)
		}
	}
	return b.String()
}

func (s propSpec) nodes() int {
	n := 0
	for _, dc := range s.racks {
		for _, r := range dc {
			n += r
		}
	}
	return n
}

// pods are the pods the spec asks for.
func (s propSpec) pods() []string {
	var out []string
	for d, dc := range s.racks {
		for r, n := range dc {
			for o := range n {
				out = append(out, fmt.Sprintf("%s-dc%d-r%d-%d", s.name, d+1, r+1, o))
			}
		}
	}
	return out
}

// write makes the spec the directory's cluster.yaml, keeping the previous.
func (c *clusterDir) write(t *testing.T, content string) {
	t.Helper()
	if b, err := os.ReadFile(c.spec()); err == nil {
		c.keepPrevious(t, b)
	}
	require.NoError(t, os.WriteFile(c.spec(), []byte(content), 0o644))
}

// propCluster creates the directory of a property run's cluster: the
// example's eu-west and us-east components, renamed.
func propCluster(t *testing.T, name string) *clusterDir {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	for _, rg := range []string{"eu-west", "us-east"} {
		copyTree(t, filepath.Join(example, "regions", rg), filepath.Join(dir, "regions", rg),
			func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), "orders", name)) })
	}
	return &clusterDir{Dir: dir}
}

// propFault is a fault of the world, injected while a rollout runs.
type propFault struct {
	kind string // kill, never-ready, api-down, jolokia-slow
	pod  string // its target, "" for api-down
	hold time.Duration
}

func (f propFault) String() string { return f.kind + " " + f.pod + " for " + f.hold.String() }

func propertyRun(t *testing.T, w *env.World, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	name := fmt.Sprintf("prop%d", seed)
	t.Logf("seed %d, cluster %s", seed, name)
	kubeconfig, api := proxiedKubeconfig(t, w, "us-east")
	m := watchCluster(t, w, name)
	tl := watchTimeline(t, w, name)
	c := propCluster(t, name)
	s := propSpec{name: name, image: 5, settle: "1s", racks: [2][]int{{1, 1}, {1, 1}}}

	c.write(t, s.yaml())
	r := harness.Ringops(t, limit, c.applyArgs(kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "bootstrap: %s", r)
	assertSeedFirst(t, m.Joined())
	assertInvariants(t, m, tl, nil)
	assertHealthy(t, w, c.Dir, name, s.nodes())

	kinds := faultKinds(rng)
	for i := range *propEvents {
		change := s.mutate(rng)
		var fault *propFault
		switch {
		case i < len(kinds): // every kind of fault once per seed, in a random order
			f := drawFault(rng, s, kinds[i])
			fault = &f
		case rng.IntN(4) > 0:
			f := drawFault(rng, s, kinds[rng.IntN(len(kinds))])
			fault = &f
		}
		t.Logf("event %d: %s; fault: %v", i, change, fault)
		c.write(t, s.yaml())
		faultedRun(t, w, rng, c, kubeconfig, api, tl, fault)
		r := harness.Ringops(t, limit, c.applyArgs(kubeconfig, "--wait")...)
		require.Equal(t, 0, r.Code, "event %d (%s, fault %v): once healed, the rollout converges: %s", i, change, fault, r)
		assertInvariants(t, m, tl, fault)
		assertHealthy(t, w, c.Dir, name, s.nodes())
		if t.Failed() {
			t.FailNow()
		}
	}
}

// mutate applies a random spec change to s and describes it.
func (s *propSpec) mutate(rng *rand.Rand) string {
	for {
		d := rng.IntN(2)
		r := rng.IntN(len(s.racks[d]))
		switch rng.IntN(6) {
		case 0:
			if s.racks[d][r] < 2 {
				s.racks[d][r]++
				return fmt.Sprintf("scale dc%d-r%d up to %d", d+1, r+1, s.racks[d][r])
			}
		case 1, 2: // down whenever a rack can: it is the riskier step
			for d, dc := range s.racks {
				for r, n := range dc {
					if n > 1 {
						s.racks[d][r]--
						return fmt.Sprintf("scale dc%d-r%d down to %d", d+1, r+1, s.racks[d][r])
					}
				}
			}
		case 3:
			s.image++
			return fmt.Sprintf("image cassandra:4.1.%d", s.image)
		case 4:
			if len(s.racks[d]) < 3 {
				s.racks[d] = append(s.racks[d], 1)
				return fmt.Sprintf("add rack dc%d-r%d", d+1, len(s.racks[d]))
			}
		default:
			s.settle = map[string]string{"1s": "2s", "2s": "1s"}[s.settle]
			return "settle " + s.settle
		}
	}
}

// faultKinds are the kinds of fault, in a random order.
func faultKinds(rng *rand.Rand) []string {
	kinds := []string{"kill", "never-ready", "api-down", "jolokia-slow"}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	return kinds
}

// drawFault targets a fault of kind at a random pod of s, held 3-6 s.
func drawFault(rng *rand.Rand, s propSpec, kind string) propFault {
	pods := s.pods()
	f := propFault{kind: kind, pod: pods[rng.IntN(len(pods))], hold: time.Duration(3+rng.IntN(4)) * time.Second}
	switch kind {
	case "kill":
		f.hold = 0
	case "api-down":
		f.pod = ""
	}
	return f
}

// faultedRun runs `ringops apply --wait --timeout` while the fault hits
// the world (after a random 0-2 s), then heals it. The run may end in a
// timeout or on an unreachable region; it must not fail otherwise.
func faultedRun(t *testing.T, w *env.World, rng *rand.Rand, c *clusterDir, kubeconfig string, api *proxy, tl *timeline, f *propFault) {
	t.Helper()
	var wg sync.WaitGroup
	if f != nil {
		after := time.Duration(rng.Int64N(int64(2 * time.Second)))
		wg.Go(func() {
			time.Sleep(after)
			inject(t, w, api, tl, *f)
		})
	}
	r := harness.Ringops(t, limit, c.applyArgs(kubeconfig, "--wait", "--timeout", "45s")...)
	wg.Wait()
	assert.Contains(t, []int{0, 6, 7}, r.Code, "converged, timed out or a region unreachable: %s", r)
}

// inject puts the fault in place, holds it, and heals it.
func inject(t *testing.T, w *env.World, api *proxy, tl *timeline, f propFault) {
	tl.excuse(f.pod)
	rg := w.Region("eu-west")
	if strings.Contains(f.pod, "-dc2-") {
		rg = w.Region("us-east")
	}
	switch f.kind {
	case "kill":
		if err := rg.Kubelet.Kill("cassandra", f.pod); err != nil {
			t.Logf("fault %s: %v", f, err)
		}
	case "never-ready":
		rg.Kubelet.SetFault("cassandra", f.pod, kubelet.NeverReady)
		time.Sleep(f.hold)
		rg.Kubelet.SetFault("cassandra", f.pod, kubelet.NoFault)
	case "api-down":
		api.Down()
		time.Sleep(f.hold)
		api.Up(t)
	case "jolokia-slow":
		w.Sim.SetPodFaults("cassandra", f.pod, cassandra.Faults{JolokiaDelay: 6 * time.Second})
		time.Sleep(f.hold)
		w.Sim.SetPodFaults("cassandra", f.pod, cassandra.Faults{})
	}
	tl.healed(f.pod)
}

// assertSeedFirst: every node of dc1 joined the ring before any of dc2.
func assertSeedFirst(t *testing.T, joined []string) {
	t.Helper()
	last := -1
	for i, p := range joined {
		if strings.Contains(p, "-dc1-") {
			last = i
		}
	}
	for i, p := range joined[:max(last, 0)] {
		assert.NotContains(t, p, "-dc2-", "node %d of the ring joined before the seed datacenter's: %v", i, joined)
	}
}

// assertInvariants checks what the monitor and the timeline saw so far.
func assertInvariants(t *testing.T, m *monitor, tl *timeline, f *propFault) {
	t.Helper()
	assert.Empty(t, m.Jumps(), "replicas moved by more than one")
	assert.Empty(t, m.Deleted(), "objects holding data deleted")
	v, steps := tl.violations()
	assert.Empty(t, v, "fault %v", f)
	t.Logf("invariants checked on %d disruptive steps so far", steps)
}

// timeline is the simulator's ring, sampled every 20 ms, and the
// disruptive steps seen on the StatefulSets (replicas) and pods
// (deletions), each with its time.
type timeline struct {
	cluster string
	first   string // the ring's first node, the one that may join as its own seed
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	samples []ringSample
	steps   []propStep
	excused map[string]time.Time // faulted pod -> healed at (zero while held)
	checked int                  // samples and steps before are checked
	found   []string
	seeded  map[string]bool // volumes (keys) that joined as their own seed, reported
}

type ringSample struct {
	at      time.Time
	members map[string]bool
	busy    []string // members not up and NORMAL, not excused
}

type propStep struct {
	at   time.Time
	pod  string // the pod it disrupts
	what string
	down bool // a replica removed
}

func watchTimeline(t *testing.T, w *env.World, cluster string) *timeline {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	tl := &timeline{cluster: cluster, first: cluster + "-dc1-r1-0", cancel: cancel, excused: map[string]time.Time{},
		seeded: map[string]bool{}}
	tl.wg.Go(func() { tl.sample(ctx, w) })
	for _, r := range w.Regions() {
		tl.wg.Go(func() { tl.watch(ctx, r) })
	}
	t.Cleanup(func() { tl.cancel(); tl.wg.Wait() })
	return tl
}

func (tl *timeline) excuse(pod string) {
	if pod == "" {
		return
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.excused[pod] = time.Time{}
}

func (tl *timeline) healed(pod string) {
	if pod == "" {
		return
	}
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.excused[pod] = time.Now()
}

func (tl *timeline) sample(ctx context.Context, w *env.World) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		nodes := w.Sim.Ring(tl.cluster)
		s := ringSample{at: time.Now(), members: map[string]bool{}}
		tl.mu.Lock()
		for _, n := range nodes {
			s.members[n.Pod] = true
			if n.JoinedAs == cassandra.JoinedAsSeed && n.Pod != tl.first && !tl.seeded[n.Key] {
				tl.seeded[n.Key] = true
				tl.found = append(tl.found, s.at.Format("15:04:05.000")+" "+n.Pod+
					" joined as its own seed: no bootstrap, it owns ranges without their data (design rule 10)")
			}
			up := n.Alive && n.Mode == "NORMAL" && n.Status == "NORMAL"
			if healedAt, ok := tl.excused[n.Pod]; ok {
				if up && !healedAt.IsZero() {
					delete(tl.excused, n.Pod) // back to health after the fault
				}
				continue
			}
			if !up {
				s.busy = append(s.busy, fmt.Sprintf("%s(alive=%t mode=%s status=%s)", n.Pod, n.Alive, n.Mode, n.Status))
			}
		}
		tl.samples = append(tl.samples, s)
		tl.mu.Unlock()
	}
}

func (tl *timeline) watch(ctx context.Context, r *env.Region) {
	opts := metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + tl.cluster}
	replicas := map[string]int32{}
	deleting := map[string]bool{}
	for ctx.Err() == nil {
		sw, err := r.Client.AppsV1().StatefulSets("cassandra").Watch(ctx, opts)
		if err != nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		pw, err := r.Client.CoreV1().Pods("cassandra").Watch(ctx, opts)
		if err != nil {
			sw.Stop()
			time.Sleep(200 * time.Millisecond)
			continue
		}
		tl.drain(ctx, sw, pw, replicas, deleting)
		sw.Stop()
		pw.Stop()
	}
}

func (tl *timeline) drain(ctx context.Context, sw, pw watch.Interface, replicas map[string]int32, deleting map[string]bool) {
	for {
		var ev watch.Event
		var ok bool
		select {
		case <-ctx.Done():
			return
		case ev, ok = <-sw.ResultChan():
		case ev, ok = <-pw.ResultChan():
		}
		if !ok {
			return
		}
		now := time.Now()
		switch o := ev.Object.(type) {
		case *appsv1.StatefulSet:
			n := int32(1)
			if o.Spec.Replicas != nil {
				n = *o.Spec.Replicas
			}
			old, seen := replicas[o.Name]
			replicas[o.Name] = n
			switch {
			case seen && n > old:
				tl.add(propStep{at: now, pod: fmt.Sprintf("%s-%d", o.Name, old), what: fmt.Sprintf("scale %s %d -> %d", o.Name, old, n)})
			case seen && n < old:
				tl.add(propStep{at: now, pod: fmt.Sprintf("%s-%d", o.Name, n), what: fmt.Sprintf("scale %s %d -> %d", o.Name, old, n), down: true})
			}
		case *corev1.Pod:
			if o.DeletionTimestamp != nil && !deleting[string(o.UID)] {
				deleting[string(o.UID)] = true
				tl.add(propStep{at: now, pod: o.Name, what: "delete pod " + o.Name})
			}
		}
	}
}

func (tl *timeline) add(s propStep) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	tl.steps = append(tl.steps, s)
}

// violations checks the samples and steps seen since the last call
// (and returns what sampling found: nodes that joined as their own seed):
// never two nodes busy at once (faulted nodes excused until back up),
// no step started while another node was busy, no replica removed while
// its node was still in the ring.
func (tl *timeline) violations() ([]string, int) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	for _, s := range tl.samples[tl.checked:] {
		if len(s.busy) > 1 {
			tl.found = append(tl.found, s.at.Format("15:04:05.000")+" two nodes busy at once: "+strings.Join(s.busy, ", "))
		}
	}
	for _, st := range tl.steps {
		i, ok := slices.BinarySearchFunc(tl.samples, st.at, func(s ringSample, at time.Time) int { return s.at.Compare(at) })
		if !ok {
			i--
		}
		if i < tl.checked || i < 0 {
			continue
		}
		before := tl.samples[i]
		var others []string
		for _, b := range before.busy {
			if !strings.HasPrefix(b, st.pod+"(") {
				others = append(others, b)
			}
		}
		if len(others) > 0 {
			tl.found = append(tl.found, fmt.Sprintf("%s %s started while the ring was unhealthy: %v", st.at.Format("15:04:05.000"), st.what, others))
		}
		if st.down && before.members[st.pod] {
			tl.found = append(tl.found, fmt.Sprintf("%s %s while %s was still in the ring", st.at.Format("15:04:05.000"), st.what, st.pod))
		}
	}
	tl.checked = len(tl.samples)
	return slices.Clone(tl.found), len(tl.steps)
}
