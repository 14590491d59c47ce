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
// another process waits (and is told so); once it is released, the other
// process takes it. Within one process the calls share the hold.
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
	again, err := Exclusive(t.Context(), func() { t.Error("the second call of one process waited") })
	if err != nil {
		t.Fatal(err)
	}
	release()
	if out := child(); !strings.Contains(out, "waiting") || !strings.Contains(out, "refused") {
		t.Errorf("with the lock still held by this process, the other process said %q", out)
	}
	again()
	if out := child(); out != "taken\n" {
		t.Errorf("with the lock released, the other process said %q", out)
	}
}
