package env_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/cqlprobe"
	"github.com/ringops/ringops/test/env/kubelet"
)

// conformanceWorlds starts the two worlds a conformance test compares: one
// region of real nodes, and one of simulated nodes whose bootstrap and
// decommission last a few seconds, as on the real nodes, so that both
// worlds can be caught in the middle of them.
func conformanceWorlds(t *testing.T) []*confWorld {
	ro := env.RealOptions()
	ro.Regions = []string{"eu-west"}
	so := env.DefaultOptions()
	so.Regions, so.NodesPerRegion = []string{"eu-west"}, 3
	so.Cassandra.BootstrapTime, so.Cassandra.DecommissionTime = 8*time.Second, 8*time.Second
	return []*confWorld{newConfWorld(t, "real", env.Start(t, ro)), newConfWorld(t, "sim", env.Start(t, so))}
}

// TestSimulatorConformsToRealCassandra holds the simulator to a real
// Cassandra 5.0 node: one world of real nodes and one of simulated nodes
// run the same rendered two-rack datacenter through the same states, and
// in each state ringops' own bulk health read (jolokia.HealthRequests) is
// posted to the same pods of both worlds and the answers compared field by
// field, after naming every endpoint by its pod (addresses and host IDs
// differ between worlds; their presence, lists and shapes must not).
func TestSimulatorConformsToRealCassandra(t *testing.T) {
	if testing.Short() {
		t.Skip("starts real Cassandra JVMs")
	}
	t.Parallel() // after the package's other tests: realcassandra.Exclusive serialises the real ones
	worlds := conformanceWorlds(t)
	each := func(f func(w *confWorld)) {
		for _, w := range worlds {
			f(w)
		}
	}
	compare := func(state string, pods ...string) {
		t.Helper()
		for _, pod := range pods {
			real, sim := worlds[0].seen[state+"/"+pod], worlds[1].seen[state+"/"+pod]
			if real != sim {
				t.Errorf("%s: %s answers differently:\n--- real 5.0 node\n%s\n--- simulated node\n%s\n%s",
					state, pod, real, sim, lineDiff(real, sim))
			} else {
				t.Logf("%s: %s answers alike:\n%s", state, pod, real)
			}
		}
	}
	const (
		one, joining, two, down, back = "one node, NORMAL", "a node joining (during its bootstrap)", "two nodes, NORMAL", "a peer down", "the peer restarted"
		leaving, decommissioned       = "a node leaving", "decommissioned"
		stopped                       = "the decommissioned node stopped (its pod removed)"
		joinFailed                    = "a bootstrap failed (its source died)"
		resumed                       = "the bootstrap resumed and done"
	)

	each(func(w *confWorld) { scaleTo(t, w.region, "tiny-dc1-r1", 1) })
	each(func(w *confWorld) { waitReady(t, w.region, "tiny-dc1-r1-0", 3*time.Minute) })
	each(func(w *confWorld) { w.capture(t, one, "tiny-dc1-r1-0") })
	compare(one, "tiny-dc1-r1-0")

	each(func(w *confWorld) { // one world at a time: a bootstrap is short
		scaleTo(t, w.region, "tiny-dc1-r2", 1)
		// Once it announced its bootstrap (before, a real node's view holds
		// only itself while it waits for ring information; the simulator
		// announces at its first gossip round: both say JOINING).
		w.waitFor(t, "tiny-dc1-r2-0", "JOINING, in its own JoiningNodes", joiningSelf("tiny-dc1-r2-0"))
		w.capture(t, joining, "tiny-dc1-r2-0")
		waitReady(t, w.region, "tiny-dc1-r2-0", 3*time.Minute)
		w.waitFor(t, "tiny-dc1-r1-0", "both nodes live", liveCount(2))
		w.capture(t, two, "tiny-dc1-r1-0", "tiny-dc1-r2-0")
		w.captureCQL(t, "cql", "tiny-dc1-r1-0")
	})
	compare(joining, "tiny-dc1-r2-0")
	compare(two, "tiny-dc1-r1-0", "tiny-dc1-r2-0")
	compare("cql", "tiny-dc1-r1-0") // what ringops and the Go driver read over CQL

	each(func(w *confWorld) {
		w.region.Kubelet.SetFault("cassandra", "tiny-dc1-r2-0", kubelet.CrashLoop)
		w.waitFor(t, "tiny-dc1-r1-0", "tiny-dc1-r2-0 unreachable", unreachable("tiny-dc1-r2-0"))
		w.capture(t, down, "tiny-dc1-r1-0")
		w.region.Kubelet.SetFault("cassandra", "tiny-dc1-r2-0", kubelet.NoFault)
		waitReady(t, w.region, "tiny-dc1-r2-0", 3*time.Minute)
		w.waitFor(t, "tiny-dc1-r1-0", "both nodes live", liveCount(2))
		w.waitFor(t, "tiny-dc1-r2-0", "both nodes live", liveCount(2))
		w.capture(t, back, "tiny-dc1-r1-0", "tiny-dc1-r2-0")
	})
	compare(down, "tiny-dc1-r1-0")
	compare(back, "tiny-dc1-r1-0", "tiny-dc1-r2-0")

	// The decommission call itself: refused without force on two nodes
	// (system_distributed keeps 3 replicas, SimpleStrategy), with the same
	// status, exception and message.
	each(func(w *confWorld) {
		answers, err := w.post(t, "tiny-dc1-r2-0", []map[string]any{{"type": "exec", "mbean": jolokia.StorageServiceMBean,
			"operation": "decommission(boolean)", "arguments": []any{false}}})
		if err != nil || len(answers) != 1 {
			t.Fatalf("%s: decommission(false): %v %v", w.name, answers, err)
		}
		a := answers[0]
		w.seen["refused/tiny-dc1-r2-0"] = fmt.Sprintf("status %s, error_type %s, error %s", a["status"], a["error_type"], a["error"])
	})
	compare("refused", "tiny-dc1-r2-0")

	each(func(w *confWorld) {
		// force: two nodes cannot keep system_distributed's 3 replicas
		// (SimpleStrategy), so Cassandra refuses a plain decommission.
		w.exec(t, "tiny-dc1-r2-0", "decommission(boolean)", true)
		w.waitFor(t, "tiny-dc1-r1-0", "tiny-dc1-r2-0 leaving", leavingSeen("tiny-dc1-r2-0"))
		w.capture(t, leaving, "tiny-dc1-r1-0")
		w.waitFor(t, "tiny-dc1-r2-0", "its own mode DECOMMISSIONED", ownMode("DECOMMISSIONED"))
		w.capture(t, decommissioned, "tiny-dc1-r2-0")
		w.waitFor(t, "tiny-dc1-r1-0", "tiny-dc1-r2-0 gone from the ring", notMember("tiny-dc1-r2-0"))
		// (The moment the failure detectors convict the silent LEFT node
		// differs: compared once it is stopped and its pod gone.)
		scaleTo(t, w.region, "tiny-dc1-r2", 0)
		eventually(t, 2*time.Minute, w.name+": pod tiny-dc1-r2-0 deleted", func() (bool, string) {
			_, byName := w.pods(t)
			return byName["tiny-dc1-r2-0"] == "", ""
		})
		w.waitFor(t, "tiny-dc1-r1-0", "the stopped LEFT node unreachable", unreachableCount(1))
		w.capture(t, stopped, "tiny-dc1-r1-0")
	})
	compare(leaving, "tiny-dc1-r1-0")
	compare(decommissioned, "tiny-dc1-r2-0")
	compare(stopped, "tiny-dc1-r1-0")

	// 5.0's failed bootstrap: a node joins on a new volume and its only
	// source dies while it waits out RING_DELAY. Still alive in its failure
	// detector when the bootstrap starts, the source is picked, the stream
	// fails, and the node turns JOINING_FAILED (5.0.1 StorageService.java
	// :2199-2203) until a resume. The simulator is given the same fault.
	each(func(w *confWorld) {
		claims := w.region.Client.CoreV1().PersistentVolumeClaims("cassandra")
		if err := claims.Delete(t.Context(), "data-tiny-dc1-r2-0", metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, time.Minute, w.name+": data-tiny-dc1-r2-0 deleted", func() (bool, string) {
			_, err := claims.Get(t.Context(), "data-tiny-dc1-r2-0", metav1.GetOptions{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
		if w.w.Sim != nil {
			w.w.Sim.SetPodFaults("cassandra", "tiny-dc1-r2-0", cassandra.Faults{FailBootstrap: true})
		}
		scaleTo(t, w.region, "tiny-dc1-r2", 1)
		w.waitFor(t, "tiny-dc1-r2-0", "JOINING, in its own JoiningNodes", joiningSelf("tiny-dc1-r2-0"))
		w.region.Kubelet.SetFault("cassandra", "tiny-dc1-r1-0", kubelet.CrashLoop)
		w.waitFor(t, "tiny-dc1-r2-0", "its own mode JOINING_FAILED", ownMode("JOINING_FAILED"))
		w.waitFor(t, "tiny-dc1-r2-0", "tiny-dc1-r1-0 unreachable", unreachable("tiny-dc1-r1-0"))
		w.capture(t, joinFailed, "tiny-dc1-r2-0")
	})
	compare(joinFailed, "tiny-dc1-r2-0")

	// The bootstrap resumed once its source is back (`nodetool bootstrap
	// resume`, what ringops' ResumeBootstrap sends): NORMAL, serving CQL.
	// (5.0's DECOMMISSION_FAILED is shown by
	// TestSimulatorConformsOnFailedDecommission: here the ring holds no
	// rows, and a forced decommission whose only target is killed in
	// RING_DELAY streams nothing, "Session does not have any tasks", and
	// ends DECOMMISSIONED 15 s after it was sent, target dead or not.)
	each(func(w *confWorld) {
		w.region.Kubelet.SetFault("cassandra", "tiny-dc1-r1-0", kubelet.NoFault)
		waitReady(t, w.region, "tiny-dc1-r1-0", 3*time.Minute)
		if w.w.Sim != nil {
			w.w.Sim.SetPodFaults("cassandra", "tiny-dc1-r2-0", cassandra.Faults{})
		}
		w.waitFor(t, "tiny-dc1-r2-0", "tiny-dc1-r1-0 live again", livePod("tiny-dc1-r1-0"))
		w.exec(t, "tiny-dc1-r2-0", "resumeBootstrap")
		w.waitFor(t, "tiny-dc1-r2-0", "its own mode NORMAL", ownMode("NORMAL"))
		waitReady(t, w.region, "tiny-dc1-r2-0", 3*time.Minute)
		w.capture(t, resumed, "tiny-dc1-r2-0")
	})
	compare(resumed, "tiny-dc1-r2-0")
}

// confWorld is one world of the conformance test with the datacenter
// applied (StatefulSets at 0 replicas).
type confWorld struct {
	name   string
	w      *env.World
	region *env.Region
	seen   map[string]string // state/pod -> canonical answer
}

// captureCQL records what a pod answers over CQL (test/env/cqlprobe).
func (c *confWorld) captureCQL(t *testing.T, state, pod string) {
	t.Helper()
	byIP, byName := c.pods(t)
	cluster := gocql.NewCluster(byName[pod])
	cluster.ProtoVersion, cluster.Timeout, cluster.ConnectTimeout = 4, 10*time.Second, 10*time.Second
	var s *gocql.Session
	eventually(t, time.Minute, c.name+": CQL session to "+pod, func() (bool, string) {
		var err error
		s, err = cluster.CreateSession()
		return err == nil, fmt.Sprint(err)
	})
	defer s.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := cqlprobe.Probe(ctx, s, byName[pod], cqlprobe.Ring{Names: byIP})
	if err != nil {
		out = "error: " + err.Error()
	}
	c.seen[state+"/"+pod] = out
}

// capture records the canonical answers of pods in a state.
func (c *confWorld) capture(t *testing.T, state string, pods ...string) {
	t.Helper()
	for _, pod := range pods {
		c.seen[state+"/"+pod] = c.canonical(t, pod)
	}
}

func newConfWorld(t *testing.T, name string, w *env.World) *confWorld {
	t.Helper()
	return newConfWorldSpec(t, name, w, realSpec)
}

// newConfWorldSpec is newConfWorld with another cluster spec.
func newConfWorldSpec(t *testing.T, name string, w *env.World, spec string) *confWorld {
	t.Helper()
	r := w.Region("eu-west")
	if _, err := r.Client.CoreV1().Namespaces().Create(t.Context(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	dyn := dynamic.NewForConfigOrDie(r.Config)
	for _, o := range renderReal(t, spec, "eu-west") {
		if o.GetKind() == "StatefulSet" {
			_ = unstructured.SetNestedField(o.Object, int64(0), "spec", "replicas")
		}
		applyObject(t, dyn, o)
	}
	return &confWorld{name: name, w: w, region: r, seen: map[string]string{}}
}

// pods maps the world's pod IPs to pod names.
func (c *confWorld) pods(t *testing.T) (map[string]string, map[string]string) {
	t.Helper()
	l, err := c.region.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	byIP, byName := map[string]string{}, map[string]string{}
	for _, p := range l.Items {
		if p.Status.PodIP != "" {
			byIP[p.Status.PodIP], byName[p.Name] = p.Name, p.Status.PodIP
		}
	}
	return byIP, byName
}

// post sends a Jolokia bulk to a pod and returns the raw answers.
func (c *confWorld) post(t *testing.T, pod string, body any) ([]map[string]json.RawMessage, error) {
	t.Helper()
	_, byName := c.pods(t)
	ip := byName[pod]
	if ip == "" {
		return nil, fmt.Errorf("%s has no IP", pod)
	}
	b, _ := json.Marshal(body)
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+ip+":8778/jolokia/", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(realJolokiaUser, realJolokiaPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	var out []map[string]json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("HTTP %s: %w", resp.Status, err)
	}
	return out, nil
}

// exec invokes a StorageService operation on a pod; the answer is not
// awaited (a decommission answers when done).
func (c *confWorld) exec(t *testing.T, pod, op string, args ...any) {
	t.Helper()
	go func() {
		req := map[string]any{"type": "exec", "mbean": jolokia.StorageServiceMBean, "operation": op}
		if len(args) > 0 {
			req["arguments"] = args
		}
		_, _ = c.post(t, pod, []map[string]any{req})
	}()
}

// health reads ringops' health bulk from a pod, decoded.
func (c *confWorld) health(t *testing.T, pod string) (map[string]json.RawMessage, error) {
	answers, err := c.post(t, pod, jolokia.HealthRequests(true))
	if err != nil {
		return nil, err
	}
	var st int
	if len(answers) == 0 || json.Unmarshal(answers[0]["status"], &st) != nil || st != 200 {
		return nil, fmt.Errorf("health read: %v", answers)
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(answers[0]["value"], &attrs); err != nil {
		return nil, err
	}
	if len(answers) > 1 {
		attrs["LoadMap"] = answers[1]["value"]
	}
	return attrs, nil
}

func (c *confWorld) waitFor(t *testing.T, pod, what string, ok func(map[string]json.RawMessage, map[string]string) bool) {
	t.Helper()
	eventually(t, 3*time.Minute, c.name+": "+pod+": "+what, func() (bool, string) {
		byIP, _ := c.pods(t)
		a, err := c.health(t, pod)
		if err != nil {
			return false, err.Error()
		}
		return ok(a, byIP), fmt.Sprint(len(a), " attributes")
	})
}

func ownMode(m string) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, _ map[string]string) bool {
		return strings.Trim(string(a["OperationMode"]), `"`) == m
	}
}

// liveCount: n nodes live, none unreachable, joining or leaving.
func liveCount(n int) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, _ map[string]string) bool {
		var l, u, j, lv []string
		_ = json.Unmarshal(a["LiveNodes"], &l)
		_ = json.Unmarshal(a["UnreachableNodes"], &u)
		_ = json.Unmarshal(a["JoiningNodes"], &j)
		_ = json.Unmarshal(a["LeavingNodes"], &lv)
		return len(l) == n && len(u)+len(j)+len(lv) == 0
	}
}

// livePod: pod is in LiveNodes.
func livePod(pod string) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, byIP map[string]string) bool {
		var l []string
		_ = json.Unmarshal(a["LiveNodes"], &l)
		return slices.ContainsFunc(l, func(ip string) bool { return byIP[ring.NormalizeEndpoint(ip)] == pod })
	}
}

func unreachable(pod string) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, byIP map[string]string) bool {
		var u []string
		_ = json.Unmarshal(a["UnreachableNodes"], &u)
		return slices.ContainsFunc(u, func(ip string) bool { return byIP[ip] == pod || byIP[ip] == "" })
	}
}

func joiningSelf(pod string) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, byIP map[string]string) bool {
		var l []string
		_ = json.Unmarshal(a["JoiningNodes"], &l)
		return strings.Trim(string(a["OperationMode"]), `"`) == "JOINING" &&
			slices.ContainsFunc(l, func(ip string) bool { return byIP[ring.NormalizeEndpoint(ip)] == pod })
	}
}

func unreachableCount(n int) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, _ map[string]string) bool {
		var u []string
		_ = json.Unmarshal(a["UnreachableNodes"], &u)
		return len(u) == n
	}
}

func leavingSeen(pod string) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, byIP map[string]string) bool {
		var l []string
		_ = json.Unmarshal(a["LeavingNodes"], &l)
		return slices.ContainsFunc(l, func(ip string) bool { return byIP[ring.NormalizeEndpoint(ip)] == pod })
	}
}

func notMember(pod string) func(map[string]json.RawMessage, map[string]string) bool {
	return func(a map[string]json.RawMessage, byIP map[string]string) bool {
		var ids map[string]string
		var leaving []string
		_ = json.Unmarshal(a["EndpointToHostId"], &ids)
		_ = json.Unmarshal(a["LeavingNodes"], &leaving)
		return len(ids) == 1 && len(leaving) == 0
	}
}

var (
	uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	loadRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)? (bytes|KiB|MiB|GiB|TiB)$`)
)

// canonical is a pod's health answer with every endpoint named by its pod
// ("gone" for an address no pod has now), host IDs, schema versions and
// loads replaced by their shape (of LoadMap, the pod's own entry only),
// one attribute per line, sorted.
func (c *confWorld) canonical(t *testing.T, pod string) string {
	t.Helper()
	byIP, _ := c.pods(t)
	a, err := c.health(t, pod)
	if err != nil {
		return "error: " + err.Error()
	}
	name := func(ep string) string {
		ep = ring.NormalizeEndpoint(ep)
		if p, ok := byIP[ep]; ok {
			return p
		}
		return "gone"
	}
	shape := func(v string, re *regexp.Regexp, what string) string {
		if re.MatchString(v) {
			return "<" + what + ">"
		}
		return fmt.Sprintf("<not a %s: %q>", what, v)
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		raw := a[k]
		var list []string
		var m map[string]string
		var s string
		switch {
		case json.Unmarshal(raw, &list) == nil && list != nil || string(raw) == "[]":
			names := make([]string, len(list))
			for i, ep := range list {
				names[i] = name(ep)
			}
			sort.Strings(names)
			lines = append(lines, fmt.Sprintf("%s: %v", k, names))
		case json.Unmarshal(raw, &m) == nil && m != nil:
			var kv []string
			for ep, v := range m {
				switch k {
				case "EndpointToHostId":
					v = shape(v, uuidRE, "uuid")
				case "LoadMap":
					// Only the node's own load is compared: a peer's
					// comes with its gossiped LOAD, which a real node
					// that just restarted may not have yet (seen in CI:
					// the restarted node's LoadMap held itself alone,
					// its peer already live).
					if name(ep) != pod {
						continue
					}
					v = shape(v, loadRE, "load")
				}
				kv = append(kv, name(ep)+"="+v)
			}
			sort.Strings(kv)
			lines = append(lines, fmt.Sprintf("%s: {%s}", k, strings.Join(kv, ", ")))
		case json.Unmarshal(raw, &s) == nil && k == "SchemaVersion":
			lines = append(lines, k+": "+shape(s, uuidRE, "uuid"))
		default:
			lines = append(lines, k+": "+string(raw))
		}
	}
	return strings.Join(lines, "\n")
}

func lineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := 0; i < max(len(al), len(bl)); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "  real: "+x, "  sim:  "+y)
		}
	}
	return strings.Join(out, "\n")
}
