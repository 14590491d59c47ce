package loopback

import (
	"net"
	"testing"
)

func TestReserveGivesDistinctBindableBlocks(t *testing.T) {
	a, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.Release() }()
	b, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = b.Release() }()
	if a.B == b.B {
		t.Fatalf("two reservations got the same block %s", a)
	}
	for _, blk := range []*Block{a, b} {
		if blk.B < firstOctet || blk.B > lastOctet {
			t.Errorf("block %s outside 127.%d-%d", blk, firstOctet, lastOctet)
		}
		l, err := net.Listen("tcp", blk.IP(7, 9)+":0")
		if err != nil {
			t.Errorf("block %s: %v", blk, err)
			continue
		}
		_ = l.Close()
	}
}

func TestReleasedBlockCanBeTakenAgain(t *testing.T) {
	a, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Release(); err != nil {
		t.Fatal(err)
	}
	again, err := tryReserve(lockDir(t), a.B)
	if err != nil {
		t.Fatalf("block %s after release: %v", a, err)
	}
	_ = again.Release()
}

func lockDir(t *testing.T) string {
	t.Helper()
	blk, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = blk.Release() }()
	return blk.dir
}
