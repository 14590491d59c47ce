package proc

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStartLogsAndStops(t *testing.T) {
	log := filepath.Join(t.TempDir(), "sh.log")
	p, err := Start("test/sh", log, "/bin/sh", []string{"-c", "echo hello $GREETING; exec sleep 60"}, []string{"GREETING=world"})
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, "hello world")
	if !Alive(p.Pid()) {
		t.Fatal("child not alive after start")
	}
	if err := p.Stop(5 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if Alive(p.Pid()) {
		t.Fatal("child alive after Stop")
	}
}

func TestStopKillsWhatIgnoresSIGTERM(t *testing.T) {
	log := filepath.Join(t.TempDir(), "log")
	p, err := Start("test/stubborn", log, "/bin/sh",
		[]string{"-c", "trap '' TERM; echo ready; while true; do sleep 0.05; done"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitLog(t, log, "ready") // the trap is in place
	if err := p.Stop(300 * time.Millisecond); !errors.Is(err, ErrKilled) {
		t.Fatalf("stop: %v, want ErrKilled", err)
	}
	if Alive(p.Pid()) {
		t.Fatal("child alive after Stop")
	}
}

func TestRSSOfSelf(t *testing.T) {
	rss, err := RSS(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if rss < 1<<20 {
		t.Fatalf("RSS of the test process %d bytes, want at least 1 MiB", rss)
	}
}

func waitLog(t *testing.T, log, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(log)
		if strings.Contains(string(data), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("log %s: %q, want %q", log, data, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestCPU: a process that spins for a while has used about that much
// processor time, and never more than the wall time it ran.
func TestCPU(t *testing.T) {
	cmd := exec.Command("bash", "-c", "end=$((SECONDS+1)); while [ $SECONDS -lt $end ]; do :; done; sleep 5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	start := time.Now()
	time.Sleep(2500 * time.Millisecond)
	used, err := CPU(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	if used < 200*time.Millisecond || used > time.Since(start) {
		t.Errorf("a process that spun up to a second used %s of processor time in %s", used, time.Since(start))
	}
}
