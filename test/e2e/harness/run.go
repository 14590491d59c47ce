package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/testkit/wait"
)

// Run is one finished ringops process.
type Run struct {
	Args     []string
	Code     int
	Stdout   string
	Stderr   string
	TimedOut bool
}

func (r Run) String() string {
	return fmt.Sprintf("ringops %s: exit %d\n--- stdout\n%s--- stderr\n%s", strings.Join(r.Args, " "), r.Code, r.Stdout, r.Stderr)
}

// Ringops runs the binary to its end (at most limit) and returns what
// it did. A process that does not end in time fails the test.
func Ringops(t *testing.T, limit time.Duration, args ...string) Run {
	t.Helper()
	r := RunBinary(t.Context(), limit, args...)
	if r.TimedOut {
		t.Fatalf("still running after %s: %s", limit, r)
	}
	if r.Code < 0 {
		t.Fatalf("ringops did not start: %s", r.Stderr)
	}
	t.Logf("%s", r)
	return r
}

// RunBinary runs the binary to its end (at most limit) without failing a
// test: usable from any goroutine.
func RunBinary(ctx context.Context, limit time.Duration, args ...string) Run {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, Binary, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Env = append(os.Environ(), "KUBECONFIG=/nonexistent") // only --kubeconfig counts
	err := cmd.Run()
	r := Run{Args: args, Stdout: out.String(), Stderr: errb.String(), Code: -1}
	r.TimedOut = ctx.Err() != nil
	if cmd.ProcessState == nil {
		r.Stderr += fmt.Sprint(err)
		return r
	}
	r.Code = cmd.ProcessState.ExitCode()
	return r
}

// Lines returns the lines of out that contain every one of subs.
func Lines(out string, subs ...string) []string {
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

// Stop wraps err so that WaitFor fails at once with it (wait.Stop).
func Stop(err error) error { return wait.Stop(err) }

// WaitFor calls cond until it returns nil, and fails the test with cond's
// last error when limit passes (a wait for the world, not a timing
// assertion) or at once when cond returns Stop(err): wait.For.
func WaitFor(t *testing.T, limit time.Duration, what string, cond func() error) {
	t.Helper()
	wait.For(t, limit, what, cond)
}
