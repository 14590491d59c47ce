package cassandra

import (
	"slices"
	"testing"
)

func TestCleanSeedsSplitsTheEnvValue(t *testing.T) {
	got := cleanSeeds([]string{" a.orders , b.orders,", "", "c.orders"})
	if want := []string{"a.orders", "b.orders", "c.orders"}; !slices.Equal(got, want) {
		t.Errorf("cleanSeeds: %v, want %v", got, want)
	}
}

func TestResolveSeedsTakesNamesAndLiteralIPs(t *testing.T) {
	d := &dns{}
	d.set("a.orders", "127.77.50.1")
	s := New(testOptions(), d.resolve)
	t.Cleanup(s.Close)
	got := s.resolveSeeds([]string{"a.orders", "127.77.50.9", "unknown.orders", "a.orders"})
	if want := []string{"127.77.50.1", "127.77.50.9"}; !slices.Equal(got, want) {
		t.Errorf("resolveSeeds: %v, want %v", got, want)
	}
}
