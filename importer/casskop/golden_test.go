package casskop

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ringops/ringops/internal/testkit/golden"
)

const configMapSample = "cassandra-configmap-v1.yaml"

// TestSamples imports every CassKop sample (with the ConfigMap they
// reference), checks the repository as ringops validate does (every
// cluster parsed and validated, every region rendered), and compares the
// files and the report with testdata/golden/<sample>/.
func TestSamples(t *testing.T) {
	samples, err := filepath.Glob("testdata/samples/*.yaml")
	if err != nil || len(samples) < 8 {
		t.Fatalf("samples: %v %v", samples, err)
	}
	cm := readFile(t, filepath.Join("testdata/samples", configMapSample))
	for _, s := range samples {
		base := filepath.Base(s)
		if base == configMapSample {
			continue
		}
		t.Run(base, func(t *testing.T) {
			inputs := []Input{{Name: "samples/" + base, Data: readFile(t, s)}, {Name: "samples/" + configMapSample, Data: cm}}
			res, err := Import(inputs, DefaultOptions())
			if err != nil {
				t.Fatalf("refused:\n%v", err)
			}
			checkRepository(t, res.Files)
			dir := filepath.Join("testdata/golden", strings.TrimSuffix(base, ".yaml"))
			for p, b := range res.Files {
				golden.Assert(t, filepath.Join(dir, filepath.FromSlash(p)), b)
			}
			golden.AssertString(t, filepath.Join(dir, "findings.txt"), findingsText(res))
			if !golden.Update() {
				assertNoStale(t, dir, res.Files)
			}
		})
	}
}

func findingsText(res *Result) string {
	var b strings.Builder
	for _, f := range res.Findings {
		b.WriteString(f.String() + "\n")
	}
	fmt.Fprintf(&b, "warnings: %d\n", res.Warnings())
	return b.String()
}

// assertNoStale fails on golden files the import no longer writes.
func assertNoStale(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if _, ok := files[filepath.ToSlash(rel)]; !ok && rel != "findings.txt" {
			t.Errorf("%s: a golden file the import no longer writes: remove it", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// checkRepository runs on files what ringops validate runs on a
// repository: every cluster.yaml loaded (parsed, defaulted, validated)
// and every region of each rendered, its Component included.
func checkRepository(t testing.TB, files map[string][]byte) {
	t.Helper()
	if err := validateRepository(files); err != nil {
		t.Fatalf("the import's output does not validate:\n%v\nfiles:\n%s", err, dump(files))
	}
}

func validateRepository(files map[string][]byte) error {
	return Verify(context.Background(), files)
}

func dump(files map[string][]byte) string {
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(files)) {
		fmt.Fprintf(&b, "--- %s\n%s", p, files[p])
	}
	return b.String()
}

func readFile(t testing.TB, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
