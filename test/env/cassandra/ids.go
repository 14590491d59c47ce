package cassandra

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/binary"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
)

// newUUID returns a random (version 4) UUID, as Cassandra draws host IDs.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return formatUUID(b, 4)
}

// nameUUID returns a name-based (version 5 style) UUID: the same name gives
// the same schema version on every node.
func nameUUID(name string) string {
	sum := sha1.Sum([]byte(name))
	var b [16]byte
	copy(b[:], sum[:16])
	return formatUUID(b, 5)
}

func formatUUID(b [16]byte, version byte) string {
	b[6] = b[6]&0x0f | version<<4
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// newTokens draws n Murmur3 tokens, sorted, as decimal strings.
func newTokens(n int) []string {
	vals := make([]int64, n)
	for i := range vals {
		var b [8]byte
		_, _ = rand.Read(b[:])
		vals[i] = int64(binary.BigEndian.Uint64(b[:]))
	}
	sort.Slice(vals, func(i, j int) bool { return vals[i] < vals[j] })
	out := make([]string, n)
	for i, v := range vals {
		out[i] = strconv.FormatInt(v, 10)
	}
	return out
}

func isLoopbackIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4() && a.IsLoopback()
}
