package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper()                      {}
func (r *recorder) Errorf(f string, args ...any) { r.errors = append(r.errors, f) }
func (r *recorder) Fatalf(f string, args ...any) { r.fatal = true; panic(r) }
func (r *recorder) Fatal(args ...any)            { r.fatal = true; panic(r) }

func run(r *recorder, f func()) {
	defer func() {
		if p := recover(); p != nil && p != r {
			panic(p)
		}
	}()
	f()
}

func TestAssert(t *testing.T) {
	file := filepath.Join(t.TempDir(), "case", "want.txt")
	r := &recorder{TB: t}
	run(r, func() { AssertString(r, file, "a\nb\n") })
	if !r.fatal {
		t.Error("a missing golden file passed")
	}

	*update = true
	r = &recorder{TB: t}
	run(r, func() { AssertString(r, file, "a\nb\n") })
	*update = false
	if r.fatal || len(r.errors) > 0 {
		t.Fatalf("-update failed: %v", r.errors)
	}
	if b, _ := os.ReadFile(file); string(b) != "a\nb\n" {
		t.Fatalf("-update wrote %q", b)
	}

	r = &recorder{TB: t}
	run(r, func() { AssertString(r, file, "a\nb\n") })
	if r.fatal || len(r.errors) > 0 {
		t.Errorf("the same content failed: %v", r.errors)
	}
	r = &recorder{TB: t}
	run(r, func() { AssertString(r, file, "a\nc\n") })
	if len(r.errors) != 1 {
		t.Errorf("a different content passed")
	}
}

func TestFirstDifference(t *testing.T) {
	d := FirstDifference("1\n2\n3\n4\n5\n6\n", "1\n2\n3\n4\nX\n6\n")
	if !strings.HasPrefix(d, "first difference at line 5\n") || !strings.Contains(d, "X") {
		t.Errorf("FirstDifference:\n%s", d)
	}
	if d := FirstDifference("a\n", "a\nb\n"); !strings.HasPrefix(d, "first difference at line 2\n") {
		t.Errorf("a longer got:\n%s", d)
	}
}
