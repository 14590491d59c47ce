package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildDaemon compiles ./cmd/ringops into a temporary directory.
func buildDaemon(b *testing.B) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "ringops")
	cmd := exec.Command("go", "build", "-o", path, "github.com/ringops/ringops/cmd/ringops")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/ringops: %v\n%s", err, out)
	}
	return path
}

// freeAddress returns a loopback address whose port was free a moment ago.
func freeAddress(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatalf("free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// daemon is a running `ringops run`.
type daemon struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:PORT
	log  string // its stderr
	done chan struct{}
	err  error // the exit, once done is closed
	// killed: the benchmark SIGKILLed it (its exit is no failure).
	killed bool
}

// startDaemon runs binary against repoURL and the kube contexts of
// kubeconfig; b.Cleanup stops it (SIGTERM, then SIGKILL after 30 s).
func startDaemon(b *testing.B, binary, repoURL, kubeconfig string) *daemon {
	b.Helper()
	return startDaemonWith(b, binary, repoURL, kubeconfig, daemonOptions{log: *logFlag, interval: 30 * time.Second})
}

// daemonOptions are what differs between the benchmarks' daemons.
type daemonOptions struct {
	log      string        // the file of its output ("": a temporary file)
	interval time.Duration // --interval
	env      []string      // added to its environment (POD_NAME=...)
	args     []string      // added to its arguments (--shards ...)
}

// startDaemonWith runs binary as startDaemon does, with o.
func startDaemonWith(b *testing.B, binary, repoURL, kubeconfig string, o daemonOptions) *daemon {
	b.Helper()
	addr := freeAddress(b)
	logPath := o.log
	if logPath == "" {
		logPath = filepath.Join(b.TempDir(), "ringops-run.log")
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	args := append([]string{"run", "--repo", repoURL, "--path", "clusters",
		"--kubeconfig", kubeconfig, "--interval", o.interval.String(), "--http-address", addr,
		"--shutdown-grace", "5s"}, o.args...)
	args = append(args, strings.Fields(*daemonArgsFlag)...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Env = append(append(os.Environ(), "KUBECONFIG=/nonexistent"), o.env...) // only --kubeconfig counts
	if err := cmd.Start(); err != nil {
		logFile.Close()
		b.Fatalf("ringops run: %v", err)
	}
	d := &daemon{cmd: cmd, base: "http://" + addr, log: logPath, done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		close(d.done)
	}()
	b.Cleanup(func() {
		d.stop(b)
		logFile.Close()
	})
	return d
}

// stop ends the daemon and reports a failed exit; on a failed benchmark it
// logs the tail of the daemon's log.
func (d *daemon) stop(b *testing.B) {
	if d.killed {
		<-d.done
		return
	}
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
		if d.err != nil {
			b.Errorf("ringops run: %v", d.err)
		}
	case <-time.After(30 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.done
		b.Errorf("ringops run: still running 30 s after SIGTERM; killed")
	}
	if b.Failed() {
		b.Logf("ringops run log (tail):\n%s", tail(d.log, 60))
	}
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// kill SIGKILLs the daemon (no step finished, no Lease released) and
// waits for its end.
func (d *daemon) kill(b *testing.B) {
	d.killed = true
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		b.Fatalf("SIGKILL ringops run: %v", err)
	}
	<-d.done
}

// exited reports whether the daemon's process has ended.
func (d *daemon) exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// clusterView is the part of a cluster in /api/v1/clusters that counts here.
type clusterView struct {
	Name      string `json:"name"`
	Dir       string `json:"dir"`
	Revision  string `json:"revision"`
	State     string `json:"state"`
	Wait      string `json:"wait"`
	LastError string `json:"lastError"`
}

// clusters reads /api/v1/clusters.
func (d *daemon) clusters(ctx context.Context) ([]clusterView, error) {
	body, err := get(ctx, d.base+"/api/v1/clusters")
	if err != nil {
		return nil, err
	}
	var v struct {
		Clusters []clusterView `json:"clusters"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return nil, fmt.Errorf("/api/v1/clusters: %w", err)
	}
	return v.Clusters, nil
}

// metrics reads /metrics.
func (d *daemon) metrics(ctx context.Context) (string, error) {
	body, err := get(ctx, d.base+"/metrics")
	return string(body), err
}

func get(ctx context.Context, url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, nil
}

// convergence counts clusters by state and keeps one line per cluster
// that is not converged (for the failure message).
type convergence struct {
	total, success int
	behind         []string
}

func converged(cs []clusterView) convergence {
	c := convergence{total: len(cs)}
	for _, cl := range cs {
		if cl.State == "success" {
			c.success++
			continue
		}
		c.behind = append(c.behind, fmt.Sprintf("%s: %s (wait %q, last error %q)", cl.Name, cl.State, cl.Wait, cl.LastError))
	}
	return c
}

func (c convergence) done(want int) bool { return c.total == want && c.success == want }

// awaitConverged polls /api/v1/clusters every second until want clusters
// are in state success (logging progress every 30 s), and fails the
// benchmark after limit.
func (d *daemon) awaitConverged(b *testing.B, want int, limit time.Duration) {
	b.Helper()
	deadline := time.Now().Add(limit)
	logged := time.Now()
	var last convergence
	for {
		if cs, err := d.clusters(b.Context()); err == nil {
			last = converged(cs)
		}
		switch {
		case last.done(want):
			return
		case d.exited():
			b.Fatalf("ringops run exited before convergence")
		case time.Now().After(deadline):
			b.Fatalf("%d of %d clusters converged after %s (%d listed); first not converged:\n%s",
				last.success, want, limit, last.total, strings.Join(last.behind[:min(20, len(last.behind))], "\n"))
		case time.Since(logged) >= 30*time.Second:
			b.Logf("%s: %d of %d clusters converged", time.Now().Format(time.TimeOnly), last.success, want)
			logged = time.Now()
		}
		time.Sleep(time.Second)
	}
}
