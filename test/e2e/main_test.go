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
	args   []string
	code   int
	stdout string
	stderr string
}

func (r run) String() string {
	return fmt.Sprintf("ringops %s: exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// ringops runs the binary to its end (at most limit) and returns what
// it did. A process that does not end in time fails the test.
func ringops(t *testing.T, limit time.Duration, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), limit)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // only --kubeconfig counts
	err := cmd.Run()
	r := run{args: args, stdout: out.String(), stderr: errb.String()}
	if ctx.Err() != nil {
		t.Fatalf("still running after %s: %s", limit, r)
	}
	if cmd.ProcessState == nil {
		t.Fatalf("ringops did not start: %v", err)
	}
	r.code = cmd.ProcessState.ExitCode()
	t.Logf("%s", r)
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
