package cassandra

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestPlacement: the replicas of each range, clockwise from its end:
// SimpleStrategy takes the next distinct nodes whatever their racks;
// NetworkTopologyStrategy takes each rack of a datacenter once before a
// rack twice, and counts the datacenters apart.
func TestPlacement(t *testing.T) {
	a := &endpoint{hostID: "a", addr: "10.0.0.1", dc: "dc1", rack: "r1", tokens: []string{"-100"}}
	b := &endpoint{hostID: "b", addr: "10.0.0.2", dc: "dc1", rack: "r1", tokens: []string{"0"}}
	c := &endpoint{hostID: "c", addr: "10.0.0.3", dc: "dc1", rack: "r2", tokens: []string{"100"}}
	d := &endpoint{hostID: "d", addr: "10.0.0.4", dc: "dc2", rack: "r1", tokens: []string{"50"}}
	var ring []ringToken
	for _, e := range []*endpoint{a, b, d, c} {
		ring = append(ring, ringToken{token: tokenValue(e.tokens[0]), text: e.tokens[0], owner: e})
	}
	for _, tc := range []struct {
		name string
		ks   keyspace
		want string
	}{
		{"simple 2", keyspace{simpleRF: 2}, "(100,-100]:ab (-100,0]:bd (0,50]:dc (50,100]:ca"},
		{"simple 9", keyspace{simpleRF: 9}, "(100,-100]:abdc (-100,0]:bdca (0,50]:dcab (50,100]:cabd"},
		// dc1's r1 holds a and b: c (r2) comes before the second of them.
		{"dc1 2", keyspace{replication: map[string]int{"dc1": 2}}, "(100,-100]:ac (-100,0]:bc (0,50]:ca (50,100]:ca"},
		// A factor above the racks allows that many repeats, the first
		// ones met (5.0.1 NetworkTopologyStrategy.java:127, 157-164).
		{"dc1 3 dc2 1", keyspace{replication: map[string]int{"dc1": 3, "dc2": 1}}, "(100,-100]:abdc (-100,0]:bdca (0,50]:dcab (50,100]:cabd"},
		{"dc2 1", keyspace{replication: map[string]int{"dc2": 1}}, "(100,-100]:d (-100,0]:d (0,50]:d (50,100]:d"},
	} {
		var got []string
		for _, rr := range placement(tc.ks, ring) {
			var ids strings.Builder
			for _, e := range rr.replicas {
				ids.WriteString(e.hostID)
			}
			got = append(got, fmt.Sprintf("%s:%s", rr.rng, ids.String()))
		}
		if g := strings.Join(got, " "); g != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, g, tc.want)
		}
	}
	if !slices.IsSortedFunc(ring, func(x, y ringToken) int { return int(x.token - y.token) }) {
		t.Fatal("the test's ring is not sorted")
	}
}
