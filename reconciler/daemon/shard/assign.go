package shard

import (
	"hash/fnv"
	"strconv"
	"strings"
)

// Of is the shard of the cluster in directory dir (its slash path in the
// repository, as the daemon keys its workers) among n: FNV-1a (32 bits) of
// the path, mod n. It depends on nothing but the path, so every replica
// agrees, and a cluster keeps its shard for as long as its directory and
// N do not change. n < 2: shard 0.
func Of(dir string, n int) int {
	if n < 2 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(dir))
	return int(h.Sum32() % uint32(n))
}

// Ordinal is the ordinal of a StatefulSet pod's name ("ringops-2": 2):
// the number after the last dash; false when there is none.
func Ordinal(identity string) (int, bool) {
	i := strings.LastIndexByte(identity, '-')
	if i < 0 || i == len(identity)-1 {
		return 0, false
	}
	n, err := strconv.Atoi(identity[i+1:])
	if err != nil || n < 0 || identity[i+1] == '+' {
		return 0, false
	}
	return n, true
}

// Home is the home shard of the replica named identity among n: its
// StatefulSet ordinal mod n; false for a name without an ordinal (no
// preference: it takes free shards first come, first served).
func Home(identity string, n int) (int, bool) {
	o, ok := Ordinal(identity)
	if !ok || n < 1 {
		return 0, false
	}
	return o % n, true
}
