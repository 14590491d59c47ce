package loopback

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"syscall"
)

// The second octets a block may use: 127.16.0.0 to 127.250.255.255, clear of
// 127.0.0.0/12 where other tools tend to bind, except 127.77.0.0/16, which
// the simulator's own tests (test/env/cassandra) use without a lock.
const (
	firstOctet = 16
	lastOctet  = 250
	simOctet   = 77
)

// ErrNoBlock is returned when every block is reserved or unusable.
var ErrNoBlock = errors.New("loopback: no free 127.x.0.0/16 block")

// Block is one reserved 127.B.0.0/16.
type Block struct {
	B    int // the second octet
	lock *os.File
	dir  string // where the lock files are
}

// Reserve picks a free block at random, locks it and checks that its
// addresses can be bound.
func Reserve() (*Block, error) {
	dir := filepath.Join(os.TempDir(), "ringops-loopback")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("loopback: lock directory: %w", err)
	}
	for _, b := range rand.Perm(lastOctet - firstOctet + 1) {
		if b+firstOctet == simOctet {
			continue
		}
		blk, err := tryReserve(dir, b+firstOctet)
		if err == nil {
			return blk, nil
		}
	}
	return nil, ErrNoBlock
}

func tryReserve(dir string, b int) (*Block, error) {
	f, err := os.OpenFile(filepath.Join(dir, fmt.Sprintf("127.%d.lock", b)), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		return nil, err
	}
	blk := &Block{B: b, lock: f, dir: dir}
	if err := bindable(blk.IP(0, 1)); err != nil {
		_ = blk.Release()
		return nil, err
	}
	return blk, nil
}

func bindable(ip string) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return fmt.Errorf("loopback: %s not bindable: %w", ip, err)
	}
	return l.Close()
}

// IP returns 127.B.c.d.
func (b *Block) IP(c, d int) string { return fmt.Sprintf("127.%d.%d.%d", b.B, c, d) }

// String returns the block in CIDR notation.
func (b *Block) String() string { return fmt.Sprintf("127.%d.0.0/16", b.B) }

// Release gives the block back.
func (b *Block) Release() error {
	if b.lock == nil {
		return nil
	}
	err := b.lock.Close()
	b.lock = nil
	return err
}
