package cql

import (
	"errors"
	"testing"
)

func TestAlterStatement(t *testing.T) {
	got, err := alterStatement(`My"Ks`, map[string]int{"dc2": 2, "dc'1": 3, "gone": 0})
	want := `ALTER KEYSPACE "My""Ks" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc''1': '3', 'dc2': '2'}`
	if err != nil || got != want {
		t.Errorf("got %s %v\nwant %s", got, err, want)
	}
	for _, factors := range []map[string]int{nil, {"dc1": 0}, {"dc1": -1}} {
		if _, err := alterStatement("orders", factors); !errors.Is(err, ErrRefused) {
			t.Errorf("%v: %v, want ErrRefused", factors, err)
		}
	}
}

func TestReplicationOf(t *testing.T) {
	for _, tc := range []struct {
		column       map[string]string
		str          string
		toDC2, equal bool
	}{
		{map[string]string{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3", "dc2": "2"},
			"NetworkTopologyStrategy {dc1: 3, dc2: 2}", true, true},
		{map[string]string{"class": "org.apache.cassandra.locator.NetworkTopologyStrategy", "dc1": "3"},
			"NetworkTopologyStrategy {dc1: 3}", false, false},
		{map[string]string{"class": "NetworkTopologyStrategy", "dc1": "3", "dc2": "2/1"},
			"NetworkTopologyStrategy {dc1: 3, dc2: 2/1}", true, false},
		{map[string]string{"class": "org.apache.cassandra.locator.SimpleStrategy", "replication_factor": "1"},
			"SimpleStrategy 1", true, false},
		{map[string]string{"class": "org.apache.cassandra.locator.LocalStrategy"}, "LocalStrategy", false, false},
		{map[string]string{"class": "com.example.EverywhereStrategy"}, "com.example.EverywhereStrategy {}", true, false},
	} {
		r := replicationOf(tc.column)
		if r.String() != tc.str || r.ReplicatesTo("dc2") != tc.toDC2 || r.Equal(map[string]int{"dc1": 3, "dc2": 2, "dc3": 0}) != tc.equal {
			t.Errorf("%v: %s, replicates to dc2 %v, equal %v", tc.column, r, r.ReplicatesTo("dc2"), r.Equal(map[string]int{"dc1": 3, "dc2": 2}))
		}
	}
}

func TestSentinelOfCode(t *testing.T) {
	for _, tc := range []struct {
		code int
		msg  string
		want error
	}{
		{codeBadCredentials, "Provided username x and/or password are incorrect", ErrUnauthorized},
		{codeUnauthorized, "User x has no ALTER permission on <keyspace k> or any of its parents", ErrUnauthorized},
		{codeConfig, "Cannot alter RF while some endpoints are not in normal state (no range movements): [/10.0.0.1:7000]", ErrRangeMovement},
		{codeConfig, "Unrecognized strategy option {dc9} passed to NetworkTopologyStrategy for keyspace k", ErrRefused},
		{codeInvalid, "Keyspace 'k' doesn't exist", ErrNoKeyspace},
		{codeInvalid, "Keyspace name must not be empty", ErrRefused},
		{codeUnavailable, "Cannot achieve consistency level ONE", ErrUnavailable},
		{codeReadTimeout, "Operation timed out", ErrUnavailable},
	} {
		if got := sentinelOfCode(tc.code, tc.msg); got != tc.want {
			t.Errorf("0x%04x %q: %v, want %v", tc.code, tc.msg, got, tc.want)
		}
	}
}

func TestVersionsAgree(t *testing.T) {
	if !(Versions{}).Agree() || !(Versions{"a": "1", "b": "1"}).Agree() || (Versions{"a": "1", "b": "2"}).Agree() {
		t.Error("Agree")
	}
}
