package git

import (
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// maxTreeEntries bounds the number of entries in one snapshot, so that a
// tree of millions of empty files cannot exhaust memory under the byte limit.
const maxTreeEntries = 1 << 20

// newSnapshot reads the tree of commit out of st into memory, under the
// size limits of opts.
func newSnapshot(st storer.EncodedObjectStorer, rev Revision, c *object.Commit, opts Options) (*Snapshot, error) {
	b := &treeBuilder{st: st, maxFile: opts.MaxFileBytes, maxTotal: opts.MaxTreeBytes, modTime: c.Committer.When}
	root, err := b.dir(c.TreeHash, "", "")
	if err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev, err)
	}
	return &Snapshot{Revision: rev, Commit: commitInfo(c), FS: &TreeFS{root: root}}, nil
}

func commitInfo(c *object.Commit) Commit {
	return Commit{
		Hash:      c.Hash.String(),
		Author:    Person{Name: c.Author.Name, Email: c.Author.Email, When: c.Author.When},
		Committer: Person{Name: c.Committer.Name, Email: c.Committer.Email, When: c.Committer.When},
		Message:   c.Message,
	}
}

// treeBuilder copies a git tree into nodes, enforcing the limits.
type treeBuilder struct {
	st       storer.EncodedObjectStorer
	maxFile  int64
	maxTotal int64
	total    int64
	entries  int
	modTime  time.Time
}

func (b *treeBuilder) dir(hash plumbing.Hash, dirPath, name string) (*node, error) {
	tree, err := object.GetTree(b.st, hash)
	if err != nil {
		return nil, fmt.Errorf("tree %q: %w", displayPath(dirPath), err)
	}
	n := &node{name: name, mode: fs.ModeDir | 0o755, modTime: b.modTime}
	for _, e := range tree.Entries {
		c, err := b.entry(e, path.Join(dirPath, e.Name))
		if err != nil {
			return nil, err
		}
		if c != nil {
			n.children = append(n.children, c)
		}
	}
	slices.SortFunc(n.children, func(a, b *node) int { return strings.Compare(a.name, b.name) })
	return n, nil
}

// entry converts one tree entry; submodules are skipped (nil, nil).
func (b *treeBuilder) entry(e object.TreeEntry, p string) (*node, error) {
	if e.Name == "" || e.Name == "." || e.Name == ".." || strings.ContainsAny(e.Name, "/\x00") {
		return nil, fmt.Errorf("tree entry %q: invalid name", p)
	}
	if b.entries++; b.entries > maxTreeEntries {
		return nil, fmt.Errorf("tree: more than %d entries at %s: %w", maxTreeEntries, p, ErrTooLarge)
	}
	switch e.Mode {
	case filemode.Dir:
		return b.dir(e.Hash, p, e.Name)
	case filemode.Regular, filemode.Deprecated:
		return b.blob(e.Hash, p, e.Name, 0o644)
	case filemode.Executable:
		return b.blob(e.Hash, p, e.Name, 0o755)
	case filemode.Symlink:
		return b.blob(e.Hash, p, e.Name, fs.ModeSymlink|0o777)
	case filemode.Submodule:
		return nil, nil
	}
	return nil, fmt.Errorf("tree entry %s: unsupported mode %s", p, e.Mode)
}

func (b *treeBuilder) blob(hash plumbing.Hash, p, name string, mode fs.FileMode) (*node, error) {
	obj, err := b.st.EncodedObject(plumbing.BlobObject, hash)
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", p, err)
	}
	size := obj.Size()
	if size > b.maxFile {
		return nil, fmt.Errorf("file %s: %d bytes, over the limit of %d: %w", p, size, b.maxFile, ErrTooLarge)
	}
	if b.total += size; b.total > b.maxTotal {
		return nil, fmt.Errorf("tree: %d bytes reached at %s, over the limit of %d: %w", b.total, p, b.maxTotal, ErrTooLarge)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", p, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, size))
	if err != nil {
		return nil, fmt.Errorf("file %s: %w", p, err)
	}
	return &node{name: name, mode: mode, data: data, modTime: b.modTime}, nil
}

func displayPath(p string) string {
	if p == "" {
		return "."
	}
	return p
}
