package schemas

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics or hangs, and that what it
// returns is consistent: a valid, defaulted, JSON-encodable cluster, or a
// non-empty ErrorList of located, non-empty messages. Seeds: every spec
// under testdata plus testdata/fuzz/FuzzParse.
//
//	go test -fuzz=FuzzParse -fuzztime=60s ./schemas
func FuzzParse(f *testing.F) {
	for _, pattern := range []string{"testdata/valid/*.yaml", "testdata/invalid/*.yaml", "testdata/change/*/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const file = "clusters/fuzz/cluster.yaml"
		c, err := Parse(file, data)
		if err != nil {
			checkErrorList(t, file, data, err)
			return
		}
		checkCluster(t, c)
	})
}

func checkErrorList(t *testing.T, file string, data []byte, err error) {
	var list ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %T is not a non-empty ErrorList: %v", err, err)
	}
	lines := 1 // an upper bound: YAML also breaks lines at \r, NEL, LS and PS
	for _, r := range string(data) {
		if isLineBreak(r) {
			lines++
		}
	}
	for _, e := range list {
		if strings.Contains(e.Message, "internal error") {
			t.Fatalf("Parse recovered from a panic: %v", e)
		}
		if e.File != file || e.Message == "" || e.Line < 0 || e.Line > lines {
			t.Fatalf("malformed error %+v (file has %d lines)", e, lines)
		}
	}
}

func checkCluster(t *testing.T, c *CassandraCluster) {
	if c == nil {
		t.Fatal("Parse returned neither a cluster nor an error")
	}
	if errs := c.Validate(); len(errs) > 0 {
		t.Fatalf("Parse accepted a cluster Validate refuses: %v", errs)
	}
	before, err := json.Marshal(c)
	if err != nil {
		t.Fatalf("an accepted cluster cannot be encoded (the renderer would fail): %v", err)
	}
	c.Default()
	after, _ := json.Marshal(c)
	if !bytes.Equal(before, after) {
		t.Fatalf("Default is not idempotent:\n%s\n%s", before, after)
	}
	if errs := ValidateChange(c, c); len(errs) > 0 {
		t.Fatalf("a cluster changed into itself: %v", errs)
	}
	if health, settle := c.Spec.Rollout.Durations(); health <= 0 || settle < 0 {
		t.Fatalf("accepted rollout durations %v and %v", health, settle)
	}
}
