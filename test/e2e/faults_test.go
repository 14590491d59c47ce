package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cassandra"
)

// jolokiaPassword is the Jolokia password of the cluster "users": it must
// never appear in what ringops prints.
const jolokiaPassword = "pw-never-printed-7f3a"

// TestBadInputAndFaults rolls out the cluster "users" (Jolokia behind
// basic auth, the credentials in a Secret of each region), then checks
// that an invalid spec and an unsafe change apply nothing, that an API
// server down in a non-seed region blocks only the disruptive steps, and
// that the seed region down blocks everything, with the reason.
func TestBadInputAndFaults(t *testing.T) {
	w := sharedWorld(t)
	createJolokiaSecret(t, w)
	c := copyExample(t, "users")
	c.Edit(t, "settle: 10s", "settle: 1s", "# credentialsSecret: jolokia-auth", "credentialsSecret: jolokia-auth")
	r := harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
	require.Equal(t, 0, r.Code, "%s", r)
	assertSecret(t, r)
	assertHealthy(t, w, c.Dir, "users", 7)

	t.Run("an invalid spec applies nothing", func(t *testing.T) {
		bad := c.Fork(t)
		bad.Edit(t, "\n  nodesPerRack: 1\n", "\n  nodesPerRack: -1\n")
		before := liveVersions(t, w, "users")
		r := harness.Ringops(t, time.Minute, "apply", bad.Dir, "--kubeconfig", w.Kubeconfig, "--wait", "-v")
		assert.Equal(t, 2, r.Code, "%s", r)
		assert.Contains(t, r.Stderr, "nodesPerRack", "the error names the field")
		assert.Equal(t, 0, writes(t, r))
		assert.Equal(t, before, liveVersions(t, w, "users"), "no object changed")
	})
	t.Run("an unsafe change applies nothing", func(t *testing.T) {
		bad := c.Fork(t)
		bad.Edit(t, "        - name: r3\n", "        - name: r4\n", "image: cassandra:4.1.5", "image: cassandra:4.1.6")
		before := liveVersions(t, w, "users")
		r := harness.Ringops(t, time.Minute, bad.applyArgs(w.Kubeconfig, "--wait", "-v")...)
		assert.Equal(t, 2, r.Code, "%s", r)
		assert.Contains(t, r.Stdout, "waiting: Blocked: the revision is invalid, nothing is applied", "%s", r)
		assert.Contains(t, r.Stderr, "racks[2]", "the error points at the rack: %s", r)
		assert.Equal(t, 0, writes(t, r))
		assert.Equal(t, before, liveVersions(t, w, "users"), "no object changed")
		assertSecret(t, r)
	})
	t.Run("an unsafe change is refused without --previous", func(t *testing.T) {
		// The clusters recorded the spec rolled out (ringops.dev/last-applied
		// on the ConfigMap): a renamed rack is refused with no --previous.
		bad := c.Fork(t)
		bad.Edit(t, "        - name: r3\n", "        - name: r4\n")
		before := liveVersions(t, w, "users")
		r := harness.Ringops(t, time.Minute, "apply", bad.Dir, "--kubeconfig", w.Kubeconfig, "--wait", "-v")
		assert.Equal(t, 2, r.Code, "%s", r)
		assert.Contains(t, r.Stderr, "racks[2]", "the error points at the rack: %s", r)
		assert.Equal(t, 0, writes(t, r))
		assert.Equal(t, before, liveVersions(t, w, "users"), "no object changed")
	})
	t.Run("a non-seed region down blocks only the disruptive steps", func(t *testing.T) {
		kubeconfig, p := proxiedKubeconfig(t, w, "ap-south")
		p.Down()
		writeFile(t, c.Dir+"/regions/us-east/external-dns.yaml", "hostname: dc2.users.db.example.com", "hostname: dc2.users.db.example.net")
		c.Edit(t, "      context: us-east\n", "      context: us-east\n      nodesPerRack: 2\n")
		r := harness.Ringops(t, time.Minute, c.applyArgs(kubeconfig)...)
		assert.Equal(t, 7, r.Code, "exit ExitUnreachable: %s", r)
		// The ConfigMap <cluster>-config of every region changes too: it
		// carries the spec's record (ringops.dev/last-applied).
		assert.Len(t, harness.Lines(r.Stdout, "[us-east] ApplyObjects ", "Service users changed"), 1, "us-east's objects are applied: %s", r)
		assert.Contains(t, r.Stdout, "[ap-south] waiting: RegionUnreachable: ap-south cannot be read", "%s", r)
		assert.Empty(t, scales(r.Stdout), "no node joins while a region cannot be checked: %s", r)
		svc, err := w.Region("us-east").Client.CoreV1().Services("cassandra").Get(t.Context(), "users", metav1.GetOptions{})
		require.NoError(t, err)
		assert.Equal(t, "dc2.users.db.example.net", svc.Annotations["external-dns.alpha.kubernetes.io/hostname"])

		r = harness.Ringops(t, time.Minute, c.applyArgs(kubeconfig, "--wait", "--timeout", "3s")...)
		assert.Equal(t, 7, r.Code, "--wait gives up on --timeout, with the reason: %s", r)
		assert.Contains(t, r.Stderr, "--timeout 3s passed while waiting: RegionUnreachable (ap-south)", "%s", r)

		p.Up(t)
		r = harness.Ringops(t, limit, c.applyArgs(kubeconfig, "--wait")...)
		require.Equal(t, 0, r.Code, "%s", r)
		assert.Equal(t, []string{"users-dc2-r1 1 -> 2", "users-dc2-r2 1 -> 2"}, scales(r.Stdout), "%s", r)
		assertSecret(t, r)
		assertHealthy(t, w, c.Dir, "users", 9)
	})
	t.Run("the seed region down blocks everything", func(t *testing.T) {
		kubeconfig, p := proxiedKubeconfig(t, w, "eu-west")
		p.Down()
		before := liveVersions(t, w, "users")
		writeFile(t, c.Dir+"/regions/us-east/external-dns.yaml", "hostname: dc2.users.db.example.net", "hostname: dc2.users.db.example.org")
		r := harness.Ringops(t, time.Minute, c.applyArgs(kubeconfig, "-v")...)
		assert.Equal(t, 7, r.Code, "%s", r)
		assert.Contains(t, r.Stdout, "[eu-west] waiting: RegionUnreachable: the seed region eu-west cannot be read", "%s", r)
		assert.Contains(t, r.Stdout, "nothing is applied anywhere until it is back", "%s", r)
		assert.Equal(t, 0, writes(t, r), "%s", r)
		assert.Equal(t, before, liveVersions(t, w, "users"), "no object changed")
		p.Up(t)
		r = harness.Ringops(t, limit, c.applyArgs(kubeconfig, "--wait")...)
		require.Equal(t, 0, r.Code, "%s", r)
		assert.Len(t, harness.Lines(r.Stdout, "[us-east] ApplyObjects ", "Service users changed"), 1, "%s", r)
	})
	t.Run("a node that never finishes joining times out, then resumes", func(t *testing.T) {
		w.Sim.SetPodFaults("cassandra", "users-dc3-r1-1", cassandra.Faults{NeverFinishJoining: true})
		c.Edit(t, "healthTimeout: 30m", "healthTimeout: 5s",
			"      replicationFactor: 2\n      # A smaller region", "      nodesPerRack: 2\n      replicationFactor: 2\n      # A smaller region")
		r := harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
		assert.Equal(t, 6, r.Code, "exit ExitTimeout: %s", r)
		assert.Equal(t, []string{"users-dc3-r1 1 -> 2"}, scales(r.Stdout), "%s", r)
		assert.Contains(t, r.Stdout, "waiting: HealthTimeout: ", "%s", r)
		assert.Contains(t, r.Stdout, "more than healthTimeout 5s", "%s", r)

		w.Sim.SetPodFaults("cassandra", "users-dc3-r1-1", cassandra.Faults{})
		r = harness.Ringops(t, limit, c.applyArgs(w.Kubeconfig, "--wait")...)
		require.Equal(t, 0, r.Code, "%s", r)
		assert.Equal(t, []string{"users-dc3-r2 1 -> 2"}, scales(r.Stdout), "the join in flight is not repeated: %s", r)
		assertHealthy(t, w, c.Dir, "users", 11)
	})
}

// createJolokiaSecret creates the Secret jolokia-auth (and the
// namespace) in every region.
func createJolokiaSecret(t *testing.T, w *env.World) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, r := range w.Regions() {
		_, err := r.Client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "cassandra"}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "jolokia-auth", Namespace: "cassandra"},
			StringData: map[string]string{"username": "ringops", "password": jolokiaPassword}}
		if _, err := r.Client.CoreV1().Secrets("cassandra").Create(ctx, s, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
}

// assertSecret: the Jolokia password is nowhere in the output.
func assertSecret(t *testing.T, r harness.Run) {
	t.Helper()
	assert.NotContains(t, r.Stdout+r.Stderr, jolokiaPassword, "the Jolokia password was printed")
}

// liveVersions are the resourceVersions of the cluster's objects, pods
// and PVCs in every region.
func liveVersions(t *testing.T, w *env.World, cluster string) map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	opts := metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + cluster}
	out := map[string]string{}
	for _, r := range w.Regions() {
		cs := r.Client
		sts, err := cs.AppsV1().StatefulSets("cassandra").List(ctx, opts)
		require.NoError(t, err)
		for _, o := range sts.Items {
			out[r.Name+"/sts/"+o.Name] = o.ResourceVersion
		}
		svcs, err := cs.CoreV1().Services("cassandra").List(ctx, opts)
		require.NoError(t, err)
		for _, o := range svcs.Items {
			out[r.Name+"/svc/"+o.Name] = o.ResourceVersion
		}
		cms, err := cs.CoreV1().ConfigMaps("cassandra").List(ctx, opts)
		require.NoError(t, err)
		for _, o := range cms.Items {
			out[r.Name+"/cm/"+o.Name] = o.ResourceVersion
		}
		pvcs, err := cs.CoreV1().PersistentVolumeClaims("cassandra").List(ctx, opts)
		require.NoError(t, err)
		for _, o := range pvcs.Items {
			out[r.Name+"/pvc/"+o.Name] = o.ResourceVersion
		}
	}
	return out
}

// writeFile replaces old by new in the file at path.
func writeFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s has no %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}
