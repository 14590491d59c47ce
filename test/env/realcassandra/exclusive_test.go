package realcassandra

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExclusiveHoldsOtherProcessesOff: while this process holds the lock,
// another process waits (and is told so), and so does another caller of
// this process; once it is released, the other process takes it.
func TestExclusiveHoldsOtherProcessesOff(t *testing.T) {
	if os.Getenv("RINGOPS_EXCLUSIVE_CHILD") != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		release, err := Exclusive(ctx, func() { os.Stdout.WriteString("waiting\n") })
		if err != nil {
			os.Stdout.WriteString("refused: " + err.Error() + "\n")
			os.Exit(0)
		}
		release()
		os.Stdout.WriteString("taken\n")
		os.Exit(0)
	}
	LockFile = filepath.Join(t.TempDir(), "ringops-real-cassandra.lock") // the child finds it through TMPDIR
	child := func() string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestExclusiveHoldsOtherProcessesOff$")
		cmd.Env = append(os.Environ(), "RINGOPS_EXCLUSIVE_CHILD=1", "TMPDIR="+filepath.Dir(LockFile))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return string(out)
	}
	release, err := Exclusive(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if out := child(); !strings.Contains(out, "waiting") || !strings.Contains(out, "refused") {
		t.Errorf("with the lock held by this process, the other process said %q", out)
	}
	// A second test of this process waits too.
	ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond)
	defer cancel()
	waited := false
	if _, err := Exclusive(ctx, func() { waited = true }); err == nil || !waited {
		t.Errorf("a second holder in this process: waited %t, err %v; want it to wait, then time out", waited, err)
	}
	release()
	release() // twice: no effect
	if out := child(); out != "taken\n" {
		t.Errorf("with the lock released, the other process said %q", out)
	}
}
