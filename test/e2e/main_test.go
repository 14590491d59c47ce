package e2e

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringops/ringops/test/env"
)

var (
	// binary is the ringops binary built by TestMain.
	binary string

	worldOnce sync.Once
	world     *env.World
	worldErr  error
)

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ringops-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "ringops")
	if err := build(binary); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	if realW != nil {
		if err := realW.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stop the world of real nodes:", err)
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "e2e: world of real nodes %s kept; logs:\n  %s\n", realW.Dir, strings.Join(realW.Logs(), "\n  "))
		} else {
			os.RemoveAll(realW.Dir)
		}
	}
	if world != nil {
		if err := world.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: stop world:", err)
		}
		if code != 0 {
			fmt.Fprintf(os.Stderr, "e2e: world %s kept; logs:\n  %s\n", world.Dir, strings.Join(world.Logs(), "\n  "))
		} else {
			os.RemoveAll(world.Dir)
		}
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles ./cmd/ringops into path.
func build(path string) error {
	cmd := exec.Command("go", "build", "-o", path, "github.com/ringops/ringops/cmd/ringops")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/ringops: %w\n%s", err, out)
	}
	return nil
}

// sharedWorld is the package's world: three regions, fast Cassandra
// timings. It is stopped by TestMain (and kept on failure).
func sharedWorld(t *testing.T) *env.World {
	t.Helper()
	if testing.Short() {
		t.Skip("starts three control planes")
	}
	worldOnce.Do(func() {
		opts := env.DefaultOptions()
		opts.KeepDir = true // removed by TestMain when every test passed
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		world, worldErr = env.StartWorld(ctx, opts)
	})
	if worldErr != nil {
		t.Fatalf("local world: %v", worldErr)
	}
	return world
}

// run is one finished ringops process.
type run struct {
	args     []string
	code     int
	stdout   string
	stderr   string
	timedOut bool
}

func (r run) String() string {
	return fmt.Sprintf("ringops %s: exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// ringops runs the binary to its end (at most limit) and returns what
// it did. A process that does not end in time fails the test.
func ringops(t *testing.T, limit time.Duration, args ...string) run {
	t.Helper()
	r := runBinary(t.Context(), limit, args...)
	if r.timedOut {
		t.Fatalf("still running after %s: %s", limit, r)
	}
	if r.code < 0 {
		t.Fatalf("ringops did not start: %s", r.stderr)
	}
	t.Logf("%s", r)
	return r
}

// runBinary runs the binary to its end (at most limit) without failing a
// test: usable from any goroutine.
func runBinary(ctx context.Context, limit time.Duration, args ...string) run {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // only --kubeconfig counts
	err := cmd.Run()
	r := run{args: args, stdout: out.String(), stderr: errb.String(), code: -1}
	r.timedOut = ctx.Err() != nil
	if cmd.ProcessState == nil {
		r.stderr += fmt.Sprint(err)
		return r
	}
	r.code = cmd.ProcessState.ExitCode()
	return r
}

// lines returns the lines of out that contain every one of subs.
func lines(out string, subs ...string) []string {
	var found []string
	for _, l := range strings.Split(out, "\n") {
		ok := true
		for _, s := range subs {
			ok = ok && strings.Contains(l, s)
		}
		if ok {
			found = append(found, l)
		}
	}
	return found
}
