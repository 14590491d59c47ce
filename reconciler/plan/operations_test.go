package plan

import (
	"testing"
	"time"
)

func TestReleaseSeries(t *testing.T) {
	for image, want := range map[string]string{
		"cassandra:4.1.5": "4.1", "cassandra:5.0.1-jammy": "5.0", "registry:5000/cassandra:3.11.17": "3.11",
		"cassandra:4.1": "4.1", "cassandra": "", "cassandra:latest": "", "registry:5000/cassandra": "", "cassandra:5": "",
		"cassandra:5.0.1@sha256:abc": "5.0",
	} {
		if got := releaseSeries(image); got != want {
			t.Errorf("releaseSeries(%q) = %q, want %q", image, got, want)
		}
	}
}

func TestBackoffDoubles(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 1: RetryBackoff, 2: 2 * RetryBackoff, 3: 4 * RetryBackoff} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %s, want %s", n, got, want)
		}
	}
}
