package git

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"
)

// ErrOutsideTree is returned (inside an *fs.PathError) when a path goes
// through a symlink whose target is absolute or climbs above the tree root.
var ErrOutsideTree = errors.New("symlink points outside the repository tree")

var (
	errSymlinkLoop = errors.New("too many levels of symlinks")
	errNotDir      = errors.New("not a directory")
	errIsDir       = errors.New("is a directory")
)

// maxSymlinkHops bounds symlink resolution, as Linux does (ELOOP after 40).
const maxSymlinkHops = 40

// TreeFS is an in-memory, read-only fs.FS over one commit's tree.
//
// Open, ReadFile, ReadDir and Stat follow symlinks as long as their targets
// stay inside the tree (relative targets, resolved like POSIX paths); a
// symlink that is absolute or climbs above the root fails with
// ErrOutsideTree and nothing outside the tree is ever read. ReadDir entries
// and Lstat report symlinks as fs.ModeSymlink, so fs.WalkDir does not
// descend through them (no cycles); ReadLink returns their target.
// Every file's ModTime is the commit time.
type TreeFS struct {
	root *node
}

// node is one tree entry: a directory, a file, or a symlink (data = target).
type node struct {
	name     string
	mode     fs.FileMode
	data     []byte
	children []*node // directories only, sorted by name
	modTime  time.Time
}

func (n *node) child(name string) *node {
	i, ok := slices.BinarySearchFunc(n.children, name, func(c *node, name string) int {
		return strings.Compare(c.name, name)
	})
	if !ok {
		return nil
	}
	return n.children[i]
}

func (n *node) isSymlink() bool { return n.mode&fs.ModeSymlink != 0 }

// Open opens the named file or directory, following symlinks inside the tree.
func (t *TreeFS) Open(name string) (fs.File, error) {
	n, err := t.resolve("open", name, true)
	if err != nil {
		return nil, err
	}
	if n.mode.IsDir() {
		return &openDir{node: n, name: name}, nil
	}
	return &openFile{node: n, Reader: bytes.NewReader(n.data)}, nil
}

// ReadFile returns a copy of the named file's content.
func (t *TreeFS) ReadFile(name string) ([]byte, error) {
	n, err := t.resolve("readfile", name, true)
	if err != nil {
		return nil, err
	}
	if n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readfile", Path: name, Err: errIsDir}
	}
	return bytes.Clone(n.data), nil
}

// ReadDir lists the named directory, sorted by name.
func (t *TreeFS) ReadDir(name string) ([]fs.DirEntry, error) {
	n, err := t.resolve("readdir", name, true)
	if err != nil {
		return nil, err
	}
	if !n.mode.IsDir() {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: errNotDir}
	}
	return dirEntries(n.children), nil
}

// Stat describes the named file, following symlinks.
func (t *TreeFS) Stat(name string) (fs.FileInfo, error) {
	n, err := t.resolve("stat", name, true)
	if err != nil {
		return nil, err
	}
	return info{n}, nil
}

// Lstat describes the named file without following a final symlink.
func (t *TreeFS) Lstat(name string) (fs.FileInfo, error) {
	n, err := t.resolve("lstat", name, false)
	if err != nil {
		return nil, err
	}
	return info{n}, nil
}

// ReadLink returns the target of the named symlink, as stored in the tree.
func (t *TreeFS) ReadLink(name string) (string, error) {
	n, err := t.resolve("readlink", name, false)
	if err != nil {
		return "", err
	}
	if !n.isSymlink() {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	return string(n.data), nil
}

// resolve walks name from the root, expanding symlinks met on the way (and
// the last element too when follow is set).
func (t *TreeFS) resolve(op, name string, follow bool) (*node, error) {
	fail := func(err error) (*node, error) { return nil, &fs.PathError{Op: op, Path: name, Err: err} }
	if !fs.ValidPath(name) {
		return fail(fs.ErrInvalid)
	}
	stack := []*node{t.root}
	todo := strings.Split(name, "/")
	for hops := 0; len(todo) > 0; {
		elem := todo[0]
		todo = todo[1:]
		switch elem {
		case "", ".":
			continue
		case "..":
			if len(stack) == 1 {
				return fail(ErrOutsideTree)
			}
			stack = stack[:len(stack)-1]
			continue
		}
		dir := stack[len(stack)-1]
		if !dir.mode.IsDir() {
			return fail(errNotDir)
		}
		c := dir.child(elem)
		switch {
		case c == nil:
			return fail(fs.ErrNotExist)
		case c.isSymlink() && (follow || len(todo) > 0):
			if hops++; hops > maxSymlinkHops {
				return fail(errSymlinkLoop)
			}
			target := string(c.data)
			if target == "" || path.IsAbs(target) {
				return fail(ErrOutsideTree)
			}
			todo = append(strings.Split(target, "/"), todo...)
		default:
			stack = append(stack, c)
		}
	}
	return stack[len(stack)-1], nil
}

// info is the fs.FileInfo of a node.
type info struct{ n *node }

func (i info) Name() string {
	if i.n.name == "" {
		return "."
	}
	return i.n.name
}
func (i info) Size() int64        { return int64(len(i.n.data)) }
func (i info) Mode() fs.FileMode  { return i.n.mode }
func (i info) ModTime() time.Time { return i.n.modTime }
func (i info) IsDir() bool        { return i.n.mode.IsDir() }
func (i info) Sys() any           { return nil }

func dirEntries(children []*node) []fs.DirEntry {
	out := make([]fs.DirEntry, len(children))
	for i, c := range children {
		out[i] = fs.FileInfoToDirEntry(info{c})
	}
	return out
}

// openFile is an open regular file (or the content of a followed symlink).
type openFile struct {
	node *node
	*bytes.Reader
}

func (f *openFile) Stat() (fs.FileInfo, error) { return info{f.node}, nil }
func (f *openFile) Close() error               { return nil }

// openDir is an open directory.
type openDir struct {
	node   *node
	name   string
	offset int
}

func (d *openDir) Stat() (fs.FileInfo, error) { return info{d.node}, nil }
func (d *openDir) Close() error               { return nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errIsDir}
}

// ReadDir implements fs.ReadDirFile.
func (d *openDir) ReadDir(count int) ([]fs.DirEntry, error) {
	rest := d.node.children[d.offset:]
	if count > 0 && len(rest) == 0 {
		return nil, io.EOF
	}
	if count > 0 && count < len(rest) {
		rest = rest[:count]
	}
	d.offset += len(rest)
	return dirEntries(rest), nil
}
