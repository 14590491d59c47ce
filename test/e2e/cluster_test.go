package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// example is the example cluster of the repository.
const example = "../../clusters-example/clusters/orders"

// clusterDir is a copy of the example cluster that a test edits, commit
// by commit: Commit keeps the spec rolled out before, for --previous.
type clusterDir struct {
	Dir  string
	prev string // the previous cluster.yaml, "" before the first commit
	n    int
}

// copyExample copies the example cluster into a temporary directory,
// renamed name (every "orders" becomes name) when name is not "orders".
func copyExample(t *testing.T, name string) *clusterDir {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	copyTree(t, example, dir, func(b []byte) []byte { return []byte(strings.ReplaceAll(string(b), "orders", name)) })
	return &clusterDir{Dir: dir}
}

// Fork copies the cluster directory as it is now into a new one, whose
// next Edit validates against the current spec.
func (c *clusterDir) Fork(t *testing.T) *clusterDir {
	t.Helper()
	dir := filepath.Join(t.TempDir(), c.base())
	copyTree(t, c.Dir, dir, func(b []byte) []byte { return b })
	return &clusterDir{Dir: dir}
}

func copyTree(t *testing.T, from, to string, edit func([]byte) []byte) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), edit(b), 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (c *clusterDir) spec() string { return filepath.Join(c.Dir, "cluster.yaml") }

// Edit replaces old by new in cluster.yaml (old must be there), keeping
// the current spec as the previous one.
func (c *clusterDir) Edit(t *testing.T, pairs ...string) {
	t.Helper()
	b, err := os.ReadFile(c.spec())
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("cluster.yaml has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	c.keepPrevious(t, b)
	if err := os.WriteFile(c.spec(), []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Append adds text at the end of cluster.yaml (the datacenters list
// ends it), keeping the current spec as the previous one.
func (c *clusterDir) Append(t *testing.T, text string) {
	t.Helper()
	b, err := os.ReadFile(c.spec())
	if err != nil {
		t.Fatal(err)
	}
	c.keepPrevious(t, b)
	if err := os.WriteFile(c.spec(), append(b, text...), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *clusterDir) keepPrevious(t *testing.T, b []byte) {
	c.n++
	c.prev = filepath.Join(filepath.Dir(c.Dir), c.base()+".previous."+strconv.Itoa(c.n)+".yaml")
	if err := os.WriteFile(c.prev, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func (c *clusterDir) base() string { return filepath.Base(c.Dir) }

// applyArgs are the arguments of `ringops apply` on this directory.
func (c *clusterDir) applyArgs(kubeconfig string, extra ...string) []string {
	args := []string{"apply", c.Dir, "--kubeconfig", kubeconfig}
	if c.prev != "" {
		args = append(args, "--previous", c.prev)
	}
	return append(args, extra...)
}
