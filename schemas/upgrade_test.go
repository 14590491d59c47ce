package schemas

import "testing"

func TestSeriesImage(t *testing.T) {
	for in, want := range map[string]string{
		"cassandra:4.1.5":                         "cassandra:4.1",
		"cassandra:5.0":                           "cassandra:5.0",
		"registry.local:5000/cassandra:3.11.17":   "registry.local:5000/cassandra:3.11",
		"cassandra:5.0.2@sha256:0123456789abcdef": "cassandra:5.0",
		"cassandra:5.0-jammy":                     "cassandra:5.0",
		"cassandra:latest":                        "cassandra:latest",
		"registry.local:5000/cassandra":           "registry.local:5000/cassandra",
		"cassandra@sha256:0123456789abcdef":       "cassandra@sha256:0123456789abcdef",
	} {
		if got := seriesImage(in); got != want {
			t.Errorf("seriesImage(%q) = %q, want %q", in, got, want)
		}
	}
}
