package shard_test

import (
	"fmt"
	"testing"

	"github.com/ringops/ringops/reconciler/daemon/shard"
)

func TestOrdinalAndHome(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ordinal int
		ok      bool
	}{
		{"ringops-0", 0, true}, {"ringops-2", 2, true}, {"my-release-ringops-11", 11, true},
		{"ringops", 0, false}, {"ringops-", 0, false}, {"ringops-7f9c4-x2b", 0, false}, {"ringops-+1", 0, false}, {"host_1a2b", 0, false},
	} {
		o, ok := shard.Ordinal(tc.name)
		if o != tc.ordinal || ok != tc.ok {
			t.Errorf("Ordinal(%q) = %d, %v; want %d, %v", tc.name, o, ok, tc.ordinal, tc.ok)
		}
	}
	if h, ok := shard.Home("ringops-4", 3); h != 1 || !ok {
		t.Errorf("Home(ringops-4, 3) = %d, %v; want 1 (4 mod 3)", h, ok)
	}
	if _, ok := shard.Home("ringops-7f9c4-x2b", 3); ok {
		t.Error("a Deployment's pod name has a home shard")
	}
}

// Of is fixed by the directory alone (every replica agrees, forever: a
// change moves clusters between replicas on upgrade) and spreads 100
// clusters about evenly over 3 shards.
func TestOfIsStableAndSpreads(t *testing.T) {
	for dir, want := range map[string]int{"clusters/orders": 2, "clusters/billing": 1, "clusters/c042": 1} {
		if got := shard.Of(dir, 3); got != want {
			t.Errorf("Of(%q, 3) = %d, want %d (FNV-1a mod 3)", dir, got, want)
		}
	}
	counts := make([]int, 3)
	for i := range 100 {
		counts[shard.Of(fmt.Sprintf("clusters/c%03d", i), 3)]++
	}
	for i, n := range counts {
		if n < 25 || n > 42 {
			t.Errorf("shard %d holds %d of 100 clusters (all: %v), want about a third", i, n, counts)
		}
	}
	if shard.Of("clusters/orders", 1) != 0 || shard.Of("clusters/orders", 0) != 0 {
		t.Error("one shard: not shard 0")
	}
}
