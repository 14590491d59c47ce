package pullrequests_test

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

// TestIssue21HeadDoesNotCrashTheChecker runs the checker, planning in
// its own process (the default InProcess planner), in a child of the
// test limited to 1 GiB like a pod, on issue 21's head. At fa54ca1 the
// child died ("fatal error: runtime: cannot allocate memory", in
// render.datacenterSeeds); the spec's bounds refuse the head at once.
func TestIssue21HeadDoesNotCrashTheChecker(t *testing.T) {
	if os.Getenv("CRASH_CHILD") == "1" {
		lim := &syscall.Rlimit{Cur: 1 << 30, Max: 1 << 30}
		_ = syscall.Setrlimit(syscall.RLIMIT_DATA, lim)
		debug.SetMemoryLimit(768 << 20)
		w := newWorld(t)
		w.push(21, w.repo.commit(w.main, issueSpec(t, w.files), "issue 21"))
		c := newChecker(t, newFakeSource(w.repo), &recorder{}, nil)
		if _, err := c.Check(t.Context(), w.repo.base()); err != nil {
			t.Fatal(err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIssue21HeadDoesNotCrashTheChecker$")
	cmd.Env = append(os.Environ(), "CRASH_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		i := strings.Index(string(out), "fatal error")
		t.Fatalf("the checker died: %v: %.200s", err, string(out)[max(i, 0):])
	}
}
