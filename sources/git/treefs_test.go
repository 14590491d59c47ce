package git

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"
)

// TestTreeFSConformance runs the standard fs.FS conformance checks on a
// snapshot of a real commit with nested directories, an executable and
// symlinks that stay inside the tree.
func TestTreeFSConformance(t *testing.T) {
	r := newRepo(t)
	r.write(map[string]string{
		"clusters/orders/cluster.yaml":                       "kind: CassandraCluster\n",
		"clusters/orders/regions/eu-west/kustomization.yaml": "kind: Component\n",
		"tools/run.sh": "#!/bin/sh\n",
		"README.md":    "# repo\n",
	})
	r.git("add", "-A")
	r.git("update-index", "--chmod=+x", "tools/run.sh")
	r.git("update-index", "--add", "--cacheinfo", "120000,"+r.hashObject("../README.md")+",clusters/readme")
	r.git("update-index", "--add", "--cacheinfo", "120000,"+r.hashObject("clusters/orders")+",orders")
	r.git("commit", "-q", "-m", "tree")
	r.push("HEAD", "refs/heads/main")
	snap := mustChange(t, mustPoller(t, testOptions(startHTTP(t, r).URL)))

	if err := fstest.TestFS(snap.FS, "README.md", "clusters/orders/cluster.yaml",
		"clusters/orders/regions/eu-west/kustomization.yaml", "tools/run.sh", "clusters/readme", "orders"); err != nil {
		t.Fatal(err)
	}
	if fi, err := snap.FS.Stat("tools/run.sh"); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("tools/run.sh mode = %v (%v), want 0755", fi.Mode(), err)
	}
	if fi, err := snap.FS.Lstat("orders"); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("Lstat(orders) = %v (%v), want a symlink", fi.Mode(), err)
	}
	if got := readFile(t, snap, "orders/cluster.yaml"); got != "kind: CassandraCluster\n" {
		t.Errorf("orders/cluster.yaml through the symlink = %q", got)
	}
	if fi, err := snap.FS.Stat("README.md"); err != nil || !fi.ModTime().Equal(snap.Commit.Committer.When) {
		t.Errorf("README.md modtime = %v (%v), want the commit time %v", fi.ModTime(), err, snap.Commit.Committer.When)
	}
}

func TestTreeFSResolution(t *testing.T) {
	file := func(name, data string) *node { return &node{name: name, mode: 0o644, data: []byte(data)} }
	link := func(name, target string) *node {
		return &node{name: name, mode: fs.ModeSymlink | 0o777, data: []byte(target)}
	}
	dir := func(name string, children ...*node) *node {
		return &node{name: name, mode: fs.ModeDir | 0o755, children: children}
	}
	// children sorted by name, as the builder leaves them
	tree := &TreeFS{root: dir("",
		dir("a", file("f", "in a"), link("loop", "loop"), link("parent", ".."), link("up2", "../..")),
		link("abs", "/etc/passwd"),
		dir("b", link("to-a", "../a/f")),
	)}
	for name, want := range map[string]error{
		"a/f":          nil,
		"b/to-a":       nil,
		"a/parent/a/f": nil,
		"abs":          ErrOutsideTree,
		"a/up2/x":      ErrOutsideTree,
		"a/loop":       errSymlinkLoop,
		"a/f/x":        errNotDir,
		"missing":      fs.ErrNotExist,
		"../a/f":       fs.ErrInvalid,
		"/a/f":         fs.ErrInvalid,
	} {
		_, err := tree.ReadFile(name)
		var pe *fs.PathError
		if !errors.Is(err, want) || (err != nil && (!errors.As(err, &pe) || pe.Path != name)) {
			t.Errorf("ReadFile(%q) = %v, want %v in a PathError naming the path", name, err, want)
		}
	}
	if got, err := tree.ReadLink("abs"); err != nil || got != "/etc/passwd" {
		t.Errorf("ReadLink(abs) = %q, %v: the link itself is readable", got, err)
	}
	b, _ := tree.ReadFile("a/f")
	b[0] = 'X'
	if again, _ := tree.ReadFile("a/f"); string(again) != "in a" {
		t.Error("ReadFile returned the tree's own bytes; a caller could modify the snapshot")
	}
}
