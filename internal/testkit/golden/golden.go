// Package golden is the one golden-file helper of ringops' tests: it
// compares what a test produced with a file kept under testdata, and
// rewrites that file instead when the test binary runs with -update
// (`go test ./render -run TestGolden -update`), so that the change shows
// in the diff under review. Only tests import it (internal/arch checks):
// its -update flag belongs to test binaries.
package golden

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files instead of comparing with them")

// Update reports whether the test binary runs with -update, for a test
// that must also skip what only holds once the goldens are right.
func Update() bool { return *update }

// Assert compares got with the content of file, or writes got to file
// (and its directory) with -update.
func Assert(t testing.TB, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (go test -update writes it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs; if the change is intended, go test -update rewrites it (then review the diff):\n%s",
			file, FirstDifference(string(want), string(got)))
	}
}

// AssertString is Assert for text.
func AssertString(t testing.TB, file, got string) {
	t.Helper()
	Assert(t, file, []byte(got))
}

// FirstDifference shows the first line where want and got differ, with
// three lines of each around it.
func FirstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		if i >= len(w) || i >= len(g) || w[i] != g[i] {
			from := max(0, i-3)
			return fmt.Sprintf("first difference at line %d\n--- want\n%s\n--- got\n%s", i+1,
				strings.Join(w[from:min(len(w), i+4)], "\n"), strings.Join(g[from:min(len(g), i+4)], "\n"))
		}
	}
	return "(the same lines)"
}
