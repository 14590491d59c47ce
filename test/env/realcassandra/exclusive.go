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

// held serialises the holders of one process (tests of a package that run
// in parallel); the flock, the processes of the machine.
var held = make(chan struct{}, 1)

// Exclusive waits until no other test of the machine runs real Cassandra
// nodes (go test runs packages side by side: on two cores, the JVMs of two
// packages starting at once took 90 s or more each to reach STARTING and
// timed rollouts out), then holds the machine's lock until release is
// called. waiting is called once if it has to wait. The lock is the
// kernel's (flock on LockFile): it goes with the process if it dies.
func Exclusive(ctx context.Context, waiting func()) (release func(), err error) {
	told := false
	tell := func() {
		if !told && waiting != nil {
			waiting()
		}
		told = true
	}
	select {
	case held <- struct{}{}:
	default:
		tell()
		select {
		case held <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("real Cassandra lock: %w", ctx.Err())
		}
	}
	f, err := os.OpenFile(LockFile, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		<-held
		return nil, fmt.Errorf("real Cassandra lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if err != syscall.EWOULDBLOCK && err != syscall.EINTR {
			f.Close()
			<-held
			return nil, fmt.Errorf("real Cassandra lock %s: %w", LockFile, err)
		}
		tell()
		select {
		case <-ctx.Done():
			f.Close()
			<-held
			return nil, fmt.Errorf("real Cassandra lock %s: %w", LockFile, ctx.Err())
		case <-time.After(time.Second):
		}
	}
	return sync.OnceFunc(func() {
		_ = f.Close() // releases the flock
		<-held
	}), nil
}
