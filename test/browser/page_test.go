package browser

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
	"github.com/chromedp/chromedp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ringops/ringops/test/env"
	"github.com/ringops/ringops/test/env/cqldata"
	"github.com/ringops/ringops/test/env/realcassandra"
	"github.com/ringops/ringops/test/gitserver"
)

// limit bounds each wait for the world of real Cassandra nodes: a wait,
// not a performance assertion.
const limit = 10 * time.Minute

// spec is a cluster of one datacenter, two racks of `nodes` nodes, each a
// real Cassandra 5.0 JVM; CQL authentication is on (the default). Tokens
// are allocated for 2 replicas: with fewer racks than that factor (3 by
// default) and more than one, Cassandra refuses a second node in a rack,
// and ringops refuses the spec.
func spec(nodes int) string {
	return fmt.Sprintf(`apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: shop, namespace: cassandra}
spec:
  image: cassandra:5.0.9
  nodesPerRack: %d
  seedsPerDatacenter: 1
  storage: {size: 1Gi}
  config:
    cassandra-yaml: {allocate_tokens_for_local_replication_factor: 2}
  pod: {terminationGracePeriodSeconds: 60}
  rollout: {healthTimeout: 10m, settle: 2s}
  datacenters:
    - name: dc1
      context: eu-west
      replicationFactor: 2
      racks: [{name: r1}, {name: r2}]
`, nodes)
}

// ks holds the rows written before the growth and read back after it:
// one replica per row, so that a node that joined without its data
// loses rows.
const ks = "page_rf1"

// TestStatusPageDuringARollout drives the status page in headless
// Chromium while the daemon grows a cluster of the local world (one
// region, real Cassandra 5.0 nodes, Git over HTTP) from one node per rack
// to two: the page, its events and /api/v1 answer 401 without the token;
// a browser logs in through the page's form, behind a path prefix; the
// cluster's ring shows two nodes per rack, each with its load; a joining
// node's cell turns from UJ to UN with no reload; the wait shown is the
// status posted for its region; rows written before the growth are all
// read back after it. Screenshots at three moments are kept (their paths
// are printed).
func TestStatusPageDuringARollout(t *testing.T) {
	began := time.Now()
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("no chromium: run scripts/setup.sh (Debian's chromium package): %v", err)
	}
	bin := buildRingops(t)
	w := startWorld(t)
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	repo.Write(map[string]string{"clusters/shop/cluster.yaml": spec(1)})
	first := repo.Commit("shop: two racks of one node")
	repo.Push()
	git := gitserver.NewHTTP(t, repo, gitserver.HTTPOptions{})
	token := "browser-test-token-7f3a"
	tokenFile := filepath.Join(t.TempDir(), "api-token")
	must(t, os.WriteFile(tokenFile, []byte(token+"\n"), 0o600))
	d := startDaemon(t, bin, w, git.URL(), tokenFile)
	api := &client{base: "http://" + d.apiAddr, token: token}

	for _, path := range []string{"/", "/api/v1/events", "/api/v1/clusters", "/api/v1/clusters/shop", "/assets/app.js"} {
		if code := api.status(t, path, false); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
	}
	waitFor(t, "the first revision rolled out", func() error { return api.converged(first) })
	const rows = 500
	writeRows(t, w, rows)

	base := behindPrefix(t, api.base, "/ringops")
	ctx := browser(t, chrome)
	shots := shotDir(t)
	run(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`input[name=token]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=token]`), token), chromedp.Submit(chromedp.CSS(`input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-cluster="shop"]`)))
	screenshot(t, ctx, filepath.Join(shots, "1-overview-converged.png"))

	repo.Write(map[string]string{"clusters/shop/cluster.yaml": spec(2)})
	second := repo.Commit("shop: a second node in every rack")
	repo.Push()
	run(t, ctx, chromedp.Navigate(base+"/#/shop"), chromedp.WaitVisible(chromedp.CSS(`.rack`)))
	waitJS[bool](t, ctx, "the steps to come (the planner's replay of the change)", `document.querySelectorAll("ol.tocome li").length > 0`)
	jsValue[bool](t, ctx, `window.__noReload = true`)

	joining := waitJS[string](t, ctx, "a node joining (UJ), marked in flight", `(document.querySelector('.node.inflight[data-state="UJ"]')||{}).dataset?.pod || ""`)
	screenshot(t, ctx, filepath.Join(shots, "2-cluster-node-joining.png"))
	waitJS[bool](t, ctx, joining+" turning UN", fmt.Sprintf(`document.querySelector('.node[data-pod=%q]')?.dataset.state === "UN"`, joining))
	if reloaded := !jsValue[bool](t, ctx, `window.__noReload === true`); reloaded {
		t.Errorf("the page was reloaded while %s joined", joining)
	}
	checkWaitIsTheStatus(t, ctx, api)

	waitFor(t, "the second revision rolled out", func() error { return api.converged(second) })
	waitJS[bool](t, ctx, "the page at rest: converged, four UN nodes", `document.querySelector("h2 .badge")?.textContent === "converged" &&
		document.querySelectorAll('.node[data-state="UN"]').length === 4 && !document.querySelector(".node.inflight") &&
		!document.querySelector("ol.tocome li")`)
	perRack := jsValue[map[string]int](t, ctx, `Object.fromEntries([...document.querySelectorAll('.rack')].map(r => [r.dataset.dc+"/"+r.dataset.rack, r.querySelectorAll('.node').length]))`)
	if want := map[string]int{"dc1/r1": 2, "dc1/r2": 2}; fmt.Sprint(perRack) != fmt.Sprint(want) {
		t.Errorf("nodes per rack on the page: %v, want %v", perRack, want)
	}
	if loads := jsValue[[]string](t, ctx, `[...document.querySelectorAll('.node .line:first-of-type')].map(l => l.textContent)`); !allHaveLoad(loads) {
		t.Errorf("a node's cell shows no load (address · load): %q", loads)
	}
	screenshot(t, ctx, filepath.Join(shots, "3-cluster-converged.png"))
	if !jsValue[bool](t, ctx, `window.__noReload === true`) {
		t.Error("the page was reloaded during the rollout")
	}
	readRows(t, w, rows)
	if strings.Contains(d.out.String(), token) {
		t.Error("the daemon logged the API token")
	}
	fmt.Printf("browser test: %.0f s (world, build, two revisions); screenshots:\n  %s\n", time.Since(began).Seconds(),
		strings.Join([]string{filepath.Join(shots, "1-overview-converged.png"), filepath.Join(shots, "2-cluster-node-joining.png"),
			filepath.Join(shots, "3-cluster-converged.png")}, "\n  "))
}

// allHaveLoad: every "address · load" line has a load.
func allHaveLoad(lines []string) bool {
	for _, l := range lines {
		if _, load, ok := strings.Cut(l, " · "); !ok || load == "" {
			return false
		}
	}
	return len(lines) > 0
}

// checkWaitIsTheStatus: while the cluster waits, the wait on the page is
// the description of one region's status on the page, and that status is
// the one the daemon posts (as /api/v1 has it). Both move: it is tried
// until one moment shows the three agreeing.
func checkWaitIsTheStatus(t *testing.T, ctx context.Context, api *client) {
	t.Helper()
	waitFor(t, "the page's wait equal to the posted status", func() error {
		page, err := chromedp.Run(ctx, chromedp.Evaluate[shownWait](`({wait: (document.getElementById("wait")||{}).textContent || "",
			regions: [...document.querySelectorAll(".region")].map(r => r.textContent)})`))
		if err != nil {
			return err
		}
		if page.Wait == "" {
			return errors.New("no wait shown")
		}
		shown := false
		for _, r := range page.Regions {
			shown = shown || strings.HasSuffix(r, " "+page.Wait)
		}
		if !shown {
			return fmt.Errorf("wait %q is no region's status on the page: %q", page.Wait, page.Regions)
		}
		c, err := api.cluster()
		if err != nil {
			return err
		}
		for _, r := range c.Regions {
			if r.Description == page.Wait {
				return nil
			}
		}
		return fmt.Errorf("wait %q is not a posted status: %+v", page.Wait, c.Regions)
	})
}

// buildRingops builds the binary from the main module.
func buildRingops(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ringops")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/ringops")
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/ringops: %v\n%s", err, out)
	}
	return bin
}

// startWorld starts one region whose Cassandra pods are real Cassandra
// 5.0 JVMs, once the machine's real-Cassandra lock is held (the main
// suite's real-node tests run beside this module's: on two cores, JVMs of
// two processes starting at once time each other out). The lock is held
// until the test ends, after the world has stopped.
func startWorld(t *testing.T) *env.World {
	t.Helper()
	release, err := realcassandra.Exclusive(t.Context(), func() {
		t.Logf("waiting for another test process's real Cassandra nodes (lock %s)", realcassandra.LockFile)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(release)
	o := env.RealOptions()
	o.Regions, o.NodesPerRegion = []string{"eu-west"}, 4
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	w, err := env.StartWorld(ctx, o)
	if err != nil {
		t.Fatalf("local world: %v", err)
	}
	t.Cleanup(func() { _ = w.Stop() })
	return w
}

// cql opens a session on dc1's nodes as ringops' role (the Secret
// shop-cql it keeps).
func cql(t *testing.T, w *env.World) *cqldata.Session {
	t.Helper()
	r := w.Region("eu-west")
	sec, err := r.Client.CoreV1().Secrets("cassandra").Get(t.Context(), "shop-cql", metav1.GetOptions{})
	must(t, err)
	pods, err := r.Client.CoreV1().Pods("cassandra").List(t.Context(), metav1.ListOptions{LabelSelector: "ringops.dev/cluster=shop"})
	must(t, err)
	var ips []string
	for _, p := range pods.Items {
		if p.Status.PodIP != "" {
			ips = append(ips, p.Status.PodIP)
		}
	}
	s, err := cqldata.DialAs("dc1", string(sec.Data["username"]), string(sec.Data["password"]), ips...)
	must(t, err)
	t.Cleanup(s.Close)
	return s
}

// writeRows creates ks (one replica in dc1) and writes rows [0, n) to it.
func writeRows(t *testing.T, w *env.World, n int) {
	t.Helper()
	s := cql(t, w)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	must(t, s.CreateKeyspace(ctx, ks, map[string]int{"dc1": 1}))
	must(t, s.Write(ctx, ks, 0, n, gocql.LocalOne))
}

// readRows reads rows [0, n) of ks back at LOCAL_ONE: with one replica,
// a row whose range moved to a node that joined without streaming it is
// missing.
func readRows(t *testing.T, w *env.World, n int) {
	t.Helper()
	s := cql(t, w)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	missing, err := s.Missing(ctx, ks, 0, n, gocql.LocalOne)
	if len(missing) > 0 || err != nil {
		t.Errorf("%d of %d rows not readable after the growth (first: %v; error: %v)", len(missing), n, missing[:min(10, len(missing))], err)
	} else {
		t.Logf("all %d rows written before the growth read back after it", n)
	}
}

// daemon is `ringops run`, its log in memory.
type daemon struct {
	out     *lockedBuffer
	apiAddr string
}

func startDaemon(t *testing.T, bin string, w *env.World, repo, tokenFile string) *daemon {
	t.Helper()
	d := &daemon{out: &lockedBuffer{}}
	cmd := exec.Command(bin, "run", "--repo", repo, "--path", "clusters", "--kubeconfig", w.Kubeconfig, "--interval", "1s",
		"--http-address", "127.0.0.1:0", "--api-address", "127.0.0.1:0", "--api-token-file", tokenFile, "--log-format", "json")
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent")
	cmd.Stdout, cmd.Stderr = d.out, d.out
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("daemon log:\n%s", d.out.String())
		}
	})
	waitFor(t, "the daemon's API listener", func() error {
		select {
		case <-exited:
			t.Fatalf("the daemon exited:\n%s", d.out.String())
		default:
		}
		sc := bufio.NewScanner(strings.NewReader(d.out.String()))
		for sc.Scan() {
			var l struct{ Msg, Address string }
			if json.Unmarshal(sc.Bytes(), &l) == nil && l.Msg == "api listening" {
				d.apiAddr = l.Address
				return nil
			}
		}
		return errors.New("no 'api listening' line yet")
	})
	return d
}

// behindPrefix serves target under prefix (stripped), as an ingress
// would, streaming (server-sent events) without buffering.
func behindPrefix(t *testing.T, target, prefix string) string {
	t.Helper()
	u, err := url.Parse(target)
	must(t, err)
	p := httputil.NewSingleHostReverseProxy(u)
	p.FlushInterval = -1
	mux := http.NewServeMux()
	mux.Handle(prefix+"/", http.StripPrefix(prefix, p))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL + prefix
}

// client asks the daemon's API.
type client struct {
	base, token string
}

func (c *client) get(path string, withToken bool) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, c.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/html")
	if withToken {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	return http.DefaultClient.Do(req)
}

func (c *client) status(t *testing.T, path string, withToken bool) int {
	t.Helper()
	res, err := c.get(path, withToken)
	must(t, err)
	_ = res.Body.Close()
	return res.StatusCode
}

// clusterState is what the test reads of /api/v1/clusters/shop.
type clusterState struct {
	Revision, State string
	Regions         []struct{ Context, State, Description string }
}

func (c *client) cluster() (clusterState, error) {
	var s clusterState
	res, err := c.get("/api/v1/clusters/shop", true)
	if err != nil {
		return s, err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		return s, fmt.Errorf("%d: %s", res.StatusCode, b)
	}
	return s, json.Unmarshal(b, &s)
}

func (c *client) converged(rev string) error {
	s, err := c.cluster()
	if err != nil {
		return err
	}
	if s.Revision != rev || s.State != "success" {
		return fmt.Errorf("at %.7s, %s: %+v", s.Revision, s.State, s.Regions)
	}
	return nil
}

// browser starts headless Chromium (no sandbox: tests may run as root).
func browser(t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1400, 1000))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first run starts the browser, for the life of the context it is
	// given: this one, not one of run's, which end with each call.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("chromium: %v", err)
	}
	return ctx
}

// shownWait is the wait and the regions' statuses on the page.
type shownWait struct {
	Wait    string   `json:"wait"`
	Regions []string `json:"regions"`
}

func run(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := chromedp.Do(c, actions...); err != nil {
		t.Fatalf("chromium: %v", err)
	}
}

func jsValue[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("chromium: %s: %v", expr, err)
	}
	return v
}

// waitJS evaluates expr in the page until it gives a value that is not
// the zero value, and returns it.
func waitJS[T comparable](t *testing.T, ctx context.Context, what, expr string) T {
	t.Helper()
	var v, zero T
	waitFor(t, what, func() error {
		var err error
		if v, err = chromedp.Run(ctx, chromedp.Evaluate[T](expr)); err != nil {
			return err
		}
		if v == zero {
			return errors.New("not yet")
		}
		return nil
	})
	return v
}

func screenshot(t *testing.T, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	must(t, err)
	must(t, os.WriteFile(path, png, 0o644))
	t.Logf("screenshot %s", path)
}

// shotDir is where the screenshots are kept: $RINGOPS_BROWSER_SHOTS, else
// a new directory under the system's temporary directory (kept).
func shotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("RINGOPS_BROWSER_SHOTS"); d != "" {
		must(t, os.MkdirAll(d, 0o755))
		return d
	}
	d, err := os.MkdirTemp("", "ringops-browser-")
	must(t, err)
	return d
}

// waitFor polls cond every 100 ms until it holds, failing after limit.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not after %s: %v", what, limit, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
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
