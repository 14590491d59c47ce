package proc

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// TestCPU: CPU reads what the process itself counts with getrusage: the
// child spins until it has used a known amount of processor time (however
// loaded the machine is), prints its own count, and idles.
func TestCPU(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpinHelper$")
	cmd.Env = append(os.Environ(), "PROC_TEST_SPIN=300ms")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper: %q, %v", line, err)
	}
	own, err := time.ParseDuration(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("helper: %q: %v", line, err)
	}
	used, err := CPU(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	// /proc truncates user and system time to ticks of 10 ms each; the idle
	// child may add a little.
	if used < own-20*time.Millisecond || used > own+100*time.Millisecond {
		t.Errorf("CPU reads %s for a process that counts %s itself", used, own)
	}
}

// TestSpinHelper is TestCPU's child: it burns PROC_TEST_SPIN of its own
// processor time, prints what getrusage counts, and waits to be killed.
func TestSpinHelper(t *testing.T) {
	want, err := time.ParseDuration(os.Getenv("PROC_TEST_SPIN"))
	if err != nil {
		t.Skip("only run by TestCPU")
	}
	for {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		if own := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()); own >= want {
			fmt.Println(own)
			break
		}
		for i := 0; i < 1e6; i++ {
		}
	}
	time.Sleep(time.Minute)
}
