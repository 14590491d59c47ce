package realcassandra

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// LockFile is the file whose lock Exclusive takes: one per machine, in the
// temporary directory.
var LockFile = filepath.Join(os.TempDir(), "ringops-real-cassandra.lock")

// holder is this process's hold on LockFile: the process takes the lock
// once and counts its users (mu is held while it is being taken).
var holder struct {
	mu   sync.Mutex
	n    int
	file *os.File
}

// Exclusive waits until no other process of the machine runs real
// Cassandra nodes (go test runs packages side by side: on two cores, the
// JVMs of two packages starting at once took 90 s or more each to reach
// STARTING and timed the rollouts out), then holds the machine's lock until
// release is called. waiting is called once if another process holds it.
// The lock is the kernel's (flock): it goes with the process if it dies.
// Within a process the calls share one hold.
func Exclusive(ctx context.Context, waiting func()) (release func(), err error) {
	holder.mu.Lock()
	defer holder.mu.Unlock()
	if holder.n > 0 {
		holder.n++
		return sync.OnceFunc(releaseHold), nil
	}
	f, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("real Cassandra lock: %w", err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			return nil, fmt.Errorf("real Cassandra lock %s: %w", LockFile, err)
		}
		if !told && waiting != nil {
			waiting()
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("real Cassandra lock %s: %w", LockFile, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	holder.n, holder.file = 1, f
	return sync.OnceFunc(releaseHold), nil
}

// releaseHold drops one user of the hold; the last closes the file, which
// releases the lock.
func releaseHold() {
	holder.mu.Lock()
	defer holder.mu.Unlock()
	holder.n--
	if holder.n == 0 {
		_ = holder.file.Close()
		holder.file = nil
	}
}
