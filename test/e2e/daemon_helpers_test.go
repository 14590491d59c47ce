package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/e2e/harness"
	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/gitserver"
)

// daemonLimit bounds a wait for a daemon to converge a small cluster: a
// wait for the simulated world, not a performance assertion.
const daemonLimit = 3 * time.Minute

// daemonConfig says how startDaemon runs `ringops run`.
type daemonConfig struct {
	// name tells the daemons of a test apart in its log ("a", "b").
	name string
	// repo is --repo.
	repo string
	// interval is --interval; default 1s.
	interval time.Duration
	// env is added to the environment: RINGOPS_GIT_*, POD_NAME.
	env []string
	// args are more flags.
	args []string
}

func (c daemonConfig) argv(w *env.World) []string {
	if c.interval == 0 {
		c.interval = time.Second
	}
	return append([]string{"run", "--repo", c.repo, "--path", "clusters", "--kubeconfig", w.Kubeconfig,
		"--http-address", "127.0.0.1:0", "--interval", c.interval.String(), "--log-format", "json"}, c.args...)
}

// daemonEnv is the test's environment without the variables ringops
// reads (RINGOPS_*, KUBECONFIG, POD_*), plus extra.
func daemonEnv(extra []string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "RINGOPS_") || strings.HasPrefix(kv, "KUBECONFIG=") || strings.HasPrefix(kv, "POD_") {
			continue
		}
		out = append(out, kv)
	}
	return append(append(out, "KUBECONFIG=/nonexistent"), extra...)
}

// daemonProc is one `ringops run` process, its output (JSON log lines)
// kept in memory.
type daemonProc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	addr string // of its HTTP listener
}

// startDaemon starts `ringops run` and waits for its HTTP listener. The
// process is killed when the test ends, and its log printed when the test
// failed.
func startDaemon(t *testing.T, w *env.World, c daemonConfig) *daemonProc {
	t.Helper()
	d := &daemonProc{name: c.name, out: &lockedBuffer{}, done: make(chan struct{})}
	d.cmd = exec.Command(harness.Binary, c.argv(w)...)
	d.cmd.Env = daemonEnv(c.env)
	d.cmd.Stdout, d.cmd.Stderr = d.out, d.out
	require.NoError(t, d.cmd.Start())
	go func() {
		_ = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		if !d.exited() {
			_ = d.cmd.Process.Signal(syscall.SIGKILL)
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon %s (pid %d) log:\n%s", d.name, d.cmd.Process.Pid, d.out.String())
		}
	})
	harness.WaitFor(t, time.Minute, "daemon "+d.name+" listening", func() error {
		if d.exited() {
			return harness.Stop(fmt.Errorf("exited with %s:\n%s", d.cmd.ProcessState, d.out.String()))
		}
		for _, l := range d.lines() {
			if l.Msg == "http listening" && l.Address != "" {
				d.addr = l.Address
				return nil
			}
		}
		return errors.New("no 'http listening' line yet")
	})
	return d
}

// daemonExit runs `ringops run` that is expected to end by itself (a bad
// setting) within limit.
func daemonExit(t *testing.T, w *env.World, c daemonConfig, limit time.Duration) harness.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, harness.Binary, c.argv(w)...)
	cmd.Env = daemonEnv(c.env)
	cmd.Stdout, cmd.Stderr = &out, &errb
	_ = cmd.Run()
	r := harness.Run{Args: c.argv(w), Stdout: out.String(), Stderr: errb.String()}
	if ctx.Err() != nil {
		t.Fatalf("still running after %s: %s", limit, r)
	}
	r.Code = cmd.ProcessState.ExitCode()
	t.Logf("%s", r)
	return r
}

func (d *daemonProc) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Signal sends sig to the process.
func (d *daemonProc) Signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	require.NoError(t, d.cmd.Process.Signal(sig), "daemon %s", d.name)
}

// Wait waits for the process to end (at most limit) and returns its exit
// code.
func (d *daemonProc) Wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-d.done:
		return d.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		t.Fatalf("daemon %s still running %s after the signal", d.name, limit)
		return -1
	}
}

// Output is everything the process printed so far.
func (d *daemonProc) Output() string { return d.out.String() }

// logLine is one JSON log line of the daemon (the fields the tests read).
type logLine struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Result  string `json:"result"`
	Err     string `json:"err"`
	Address string `json:"address"`
	Leader  string `json:"leader"`
}

// lines are the log lines printed so far.
func (d *daemonProc) lines() []logLine {
	var out []logLine
	sc := bufio.NewScanner(strings.NewReader(d.out.String()))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for sc.Scan() {
		var l logLine
		if json.Unmarshal(sc.Bytes(), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// Mark is the number of log lines so far: StepsSince(Mark()) are the
// steps logged from now on.
func (d *daemonProc) Mark() int { return len(d.lines()) }

// StepsSince are the messages of the steps logged after mark, one per
// line (the input of scales and done).
func (d *daemonProc) StepsSince(mark int) string {
	var b strings.Builder
	for i, l := range d.lines() {
		if i >= mark && l.Result != "" {
			b.WriteString(l.Msg + "\n")
		}
	}
	return b.String()
}

// StepsDone are the steps logged after mark and carried out (not
// failed) whose message holds every one of subs.
func (d *daemonProc) StepsDone(mark int, subs ...string) []string {
	var out []string
	for _, l := range done(d.StepsSince(mark)) {
		if l != "" && len(harness.Lines(l, subs...)) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Index is the position of the first log line whose message holds every
// one of subs, -1 when none.
func (d *daemonProc) Index(subs ...string) int {
	for i, l := range d.lines() {
		if len(harness.Lines(l.Msg, subs...)) > 0 {
			return i
		}
	}
	return -1
}

// Logged reports whether a log line's message holds every one of subs.
func (d *daemonProc) Logged(subs ...string) bool { return d.Index(subs...) >= 0 }

// apiClusters is GET /api/v1/clusters, as a user reads it.
type apiClusters struct {
	Leader bool `json:"leader"`
	Source struct {
		Revision string    `json:"revision"`
		Commit   string    `json:"commit"`
		LastPoll time.Time `json:"lastPoll"`
		Error    string    `json:"error"`
		Refused  string    `json:"refused"`
		Clusters []string  `json:"clusters"`
	} `json:"source"`
	Clusters []apiCluster `json:"clusters"`
}

// apiCluster is one cluster of GET /api/v1/clusters.
type apiCluster struct {
	Name      string            `json:"name"`
	Dir       string            `json:"dir"`
	Revision  string            `json:"revision"`
	State     string            `json:"state"`
	Invalid   []string          `json:"invalid"`
	Plan      string            `json:"plan"`
	Wait      string            `json:"wait"`
	Ring      string            `json:"ring"`
	Nodes     map[string]string `json:"nodes"`
	LastError string            `json:"lastError"`
	Regions   []struct {
		Context     string `json:"context"`
		State       string `json:"state"`
		Description string `json:"description"`
	} `json:"regions"`
}

func (c apiCluster) String() string {
	return fmt.Sprintf("cluster %s at %.7s: state %s, wait %q, plan %q, invalid %q, last error %q",
		c.Name, c.Revision, c.State, c.Wait, c.Plan, c.Invalid, c.LastError)
}

// get reads one path of the daemon's HTTP API.
func (d *daemonProc) get(path string) ([]byte, error) {
	resp, err := http.Get("http://" + d.addr + path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %s", path, resp.Status, b)
	}
	return b, err
}

// Clusters is GET /api/v1/clusters.
func (d *daemonProc) Clusters() (apiClusters, error) {
	var v apiClusters
	b, err := d.get("/api/v1/clusters")
	if err != nil {
		return v, err
	}
	return v, json.Unmarshal(b, &v)
}

// MustClusters is GET /api/v1/clusters; an error fails the test.
func (d *daemonProc) MustClusters(t *testing.T) apiClusters {
	t.Helper()
	v, err := d.Clusters()
	require.NoError(t, err, "daemon %s", d.name)
	return v
}

// Cluster is the cluster name of GET /api/v1/clusters.
func (d *daemonProc) Cluster(name string) (apiCluster, error) {
	v, err := d.Clusters()
	if err != nil {
		return apiCluster{}, err
	}
	for _, c := range v.Clusters {
		if c.Name == name {
			return c, nil
		}
	}
	return apiCluster{}, fmt.Errorf("no cluster %s in /api/v1/clusters (source: %+v)", name, v.Source)
}

// Metric sums the samples of the metric name whose labels contain every
// one of labels (`outcome="failed"`), from GET /metrics; 0 when none.
func (d *daemonProc) Metric(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	b, err := d.get("/metrics")
	require.NoError(t, err, "daemon %s", d.name)
	sum := 0.0
	for _, l := range strings.Split(string(b), "\n") {
		series, value, ok := strings.Cut(l, " ")
		if !ok || strings.HasPrefix(l, "#") {
			continue
		}
		metric, lbls, _ := strings.Cut(series, "{")
		if metric != name {
			continue
		}
		match := true
		for _, want := range labels {
			match = match && strings.Contains(lbls, want)
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil && match {
			sum += v
		}
	}
	return sum
}

// waitConverged waits until the daemon says the cluster converged at
// commit, then checks the simulator's ring: nodes members, all up and
// NORMAL.
func waitConverged(t *testing.T, w *env.World, d *daemonProc, name, commit string, nodes int, limit time.Duration) {
	t.Helper()
	harness.WaitFor(t, limit, fmt.Sprintf("daemon %s: %s converged at %.7s", d.name, name, commit), func() error {
		if d.exited() {
			return harness.Stop(fmt.Errorf("daemon %s exited: %s", d.name, d.cmd.ProcessState))
		}
		c, err := d.Cluster(name)
		switch {
		case err != nil:
			return err
		case c.Revision != commit || c.State != "success" || c.Wait != "Converged":
			return errors.New(c.String())
		}
		return nil
	})
	ring := w.Sim.Ring(name)
	require.Len(t, ring, nodes, "members of the ring: %+v", ring)
	for _, n := range ring {
		require.True(t, n.Alive && n.Mode == "NORMAL" && n.Status == "NORMAL", "node %+v", n)
	}
}

// sendWebhook posts a push of ref to the daemon's /hooks/<forge>, signed
// as GitHub or Gitea sign it, and returns the HTTP status.
func sendWebhook(t *testing.T, d *daemonProc, forge, secret, ref, after string) int {
	t.Helper()
	body := fmt.Sprintf(`{"ref":%q,"before":"0000000000000000000000000000000000000000","after":%q,"repository":{"full_name":"acme/clusters"}}`, ref, after)
	req, err := http.NewRequest(http.MethodPost, "http://"+d.addr+"/hooks/"+forge, strings.NewReader(body))
	require.NoError(t, err)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	sig := hex.EncodeToString(mac.Sum(nil))
	req.Header.Set("Content-Type", "application/json")
	switch forge {
	case "github":
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Hub-Signature-256", "sha256="+sig)
	case "gitea":
		req.Header.Set("X-Gitea-Event", "push")
		req.Header.Set("X-GitHub-Event", "push")
		req.Header.Set("X-Gitea-Signature", sig)
	default:
		t.Fatalf("sendWebhook: forge %q", forge)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	t.Logf("webhook to daemon %s /hooks/%s: %s %s", d.name, forge, resp.Status, strings.TrimSpace(string(b)))
	return resp.StatusCode
}

// daemonSpec is the small cluster of a daemon test: the property tests'
// spec with one seed per datacenter (the first node of each), so that
// growing or shrinking a rack restarts no pod.
type daemonSpec struct{ propSpec }

func newDaemonSpec(name string, dc1, dc2 int) daemonSpec {
	return daemonSpec{propSpec{name: name, image: 5, settle: "1s", racks: [2][]int{{dc1}, {dc2}}}}
}

func (s daemonSpec) yaml() string {
	return strings.Replace(s.propSpec.yaml(), "\n  nodesPerRack: 1\n", "\n  nodesPerRack: 1\n  seedsPerDatacenter: 1\n", 1)
}

// newClusterRepo is a Git repository whose first commit, pushed, holds
// the small cluster s (clusters/<name>: its spec, and the example's
// eu-west and us-east components renamed). It returns the commit.
func newClusterRepo(t *testing.T, s daemonSpec) (*gitserver.Repo, string) {
	t.Helper()
	r := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	c := propCluster(t, s.name)
	c.write(t, s.yaml())
	r.CopyDir(c.Dir, "clusters/"+s.name)
	first := r.Commit(s.name + ": bootstrap")
	r.Push()
	return r, first
}

// pushSpec commits s as the cluster's spec and pushes it.
func pushSpec(t *testing.T, r *gitserver.Repo, s daemonSpec, msg string) string {
	t.Helper()
	return r.CommitAndPush(msg, map[string]string{"clusters/" + s.name + "/cluster.yaml": s.yaml()})
}

// editRepoFile replaces, in the working clone's file at path, each old by
// its new (old must be there).
func editRepoFile(t *testing.T, r *gitserver.Repo, path string, pairs ...string) {
	t.Helper()
	full := filepath.Join(r.Work, filepath.FromSlash(path))
	b, err := os.ReadFile(full)
	require.NoError(t, err)
	s := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		require.Contains(t, s, pairs[i], "%s", path)
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	require.NoError(t, os.WriteFile(full, []byte(s), 0o644))
}

// secretFile writes a fresh random secret with prefix into a file of the
// test and returns both.
func secretFile(t *testing.T, prefix string) (string, string) {
	t.Helper()
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	secret := prefix + hex.EncodeToString(b)
	path := filepath.Join(t.TempDir(), prefix+"file")
	require.NoError(t, os.WriteFile(path, []byte(secret+"\n"), 0o600))
	return secret, path
}

// replicas is the StatefulSet's spec.replicas in region (-1 when absent)
// and its annotations.
func replicas(ctx context.Context, w *env.World, region, sts string) (int32, map[string]string) {
	o, err := w.Region(region).Client.AppsV1().StatefulSets("cassandra").Get(ctx, sts, metav1.GetOptions{})
	if err != nil || o.Spec.Replicas == nil {
		return -1, nil
	}
	return *o.Spec.Replicas, o.Annotations
}

// lockedBuffer is a process's output, written by its pipes and read by
// the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
