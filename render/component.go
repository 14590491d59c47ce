package render

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/types"
)

// component is a region's kustomize Component, copied from the repository:
// the regular files below clusters/<name>/regions/<context>/.
type component struct {
	dir   string            // slash path in the repository, for messages
	files map[string][]byte // slash path relative to dir -> content
	size  int64
	top   string               // the top kustomization's file name, once checked
	kust  *types.Kustomization // the top kustomization, once checked
}

// file is the repository path of the top kustomization (the directory
// before it is known).
func (c *component) file() string {
	if c.top == "" {
		return c.dir
	}
	return path.Join(c.dir, c.top)
}

// loadComponent copies the regular files below dir (recursively), within
// the limits of opts. A symlink is followed only when it stays inside the
// repository and names a regular file.
func loadComponent(fsys fs.FS, dir string, opts Options) (*component, error) {
	c := &component{dir: dir, files: map[string][]byte{}}
	if err := c.copyDir(fsys, "", opts); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *component) copyDir(fsys fs.FS, rel string, opts Options) error {
	full := path.Join(c.dir, rel)
	entries, err := fs.ReadDir(fsys, full)
	if err != nil {
		return fileErr(full, "", err)
	}
	for _, e := range entries {
		r := path.Join(rel, e.Name())
		switch {
		case e.IsDir():
			err = c.copyDir(fsys, r, opts)
		case e.Type().IsRegular():
			err = c.copyFile(fsys, r, opts)
		case e.Type()&fs.ModeSymlink != 0:
			err = c.copySymlink(fsys, r, opts)
		default:
			err = fileErr(path.Join(c.dir, r), "", fmt.Errorf("%w (%s)", ErrUnsafeFile, e.Type()))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// copySymlink copies the regular file a symlink names, if the link stays
// inside the repository (the filesystem, e.g. os.Root, enforces it for
// links of links).
func (c *component) copySymlink(fsys fs.FS, rel string, opts Options) error {
	full := path.Join(c.dir, rel)
	if rl, ok := fsys.(fs.ReadLinkFS); ok {
		target, err := rl.ReadLink(full)
		if err != nil {
			return fileErr(full, "", err)
		}
		if escapes(path.Dir(full), target) {
			return fileErr(full, "", fmt.Errorf("%w: symlink to %s leaves the repository", ErrUnsafeFile, target))
		}
	}
	st, err := fs.Stat(fsys, full)
	if err != nil {
		return fileErr(full, "", fmt.Errorf("%w: symlink cannot be followed: %w", ErrUnsafeFile, err))
	}
	if !st.Mode().IsRegular() {
		return fileErr(full, "", fmt.Errorf("%w: symlink to a %s", ErrUnsafeFile, kindOf(st.Mode())))
	}
	return c.copyFile(fsys, rel, opts)
}

// escapes tells whether the symlink target, relative to dir, is absolute or
// leaves the root of the filesystem.
func escapes(dir, target string) bool {
	if path.IsAbs(target) || strings.HasPrefix(target, `\`) {
		return true
	}
	p := path.Join(dir, target)
	return p == ".." || strings.HasPrefix(p, "../")
}

func kindOf(m fs.FileMode) string {
	if m.IsDir() {
		return "directory"
	}
	return "special file"
}

func (c *component) copyFile(fsys fs.FS, rel string, opts Options) error {
	full := path.Join(c.dir, rel)
	if len(c.files) >= opts.MaxFiles {
		return fileErr(c.dir, "", fmt.Errorf("%w: more than %d files", ErrTooLarge, opts.MaxFiles))
	}
	f, err := fsys.Open(full)
	if err != nil {
		return fileErr(full, "", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, opts.MaxFileSize+1))
	if err != nil {
		return fileErr(full, "", err)
	}
	if int64(len(data)) > opts.MaxFileSize {
		return fileErr(full, "", fmt.Errorf("%w: larger than %d bytes", ErrTooLarge, opts.MaxFileSize))
	}
	c.size += int64(len(data))
	if c.size > opts.MaxTotalSize {
		return fileErr(c.dir, "", fmt.Errorf("%w: files total more than %d bytes", ErrTooLarge, opts.MaxTotalSize))
	}
	c.files[rel] = data
	return nil
}

// kustomizationNames are the file names kustomize recognises.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

// check inspects every kustomization of the component before any build:
// the top one must be a kind: Component, and no reference may be remote or
// leave the component's directory.
func (c *component) check() error {
	if err := c.findTop(); err != nil {
		return err
	}
	var nested []string
	for rel := range c.files {
		if rel != c.top && slices.Contains(kustomizationNames, path.Base(rel)) {
			nested = append(nested, rel)
		}
	}
	slices.Sort(nested)
	for _, rel := range append([]string{c.top}, nested...) {
		k, err := parseKustomization(path.Join(c.dir, rel), c.files[rel])
		if err != nil {
			return err
		}
		if rel == c.top {
			if err := checkKind(c.file(), k); err != nil {
				return err
			}
			c.kust = k
		}
		if err := checkKustomization(c.dir, rel, k, c.files); err != nil {
			return err
		}
	}
	return nil
}

// findTop finds the top kustomization file.
func (c *component) findTop() error {
	var found []string
	for _, n := range kustomizationNames {
		if _, ok := c.files[n]; ok {
			found = append(found, n)
		}
	}
	switch len(found) {
	case 0:
		return fileErr(c.dir, "", fmt.Errorf("%w: no kustomization.yaml", ErrNotComponent))
	case 1:
		c.top = found[0]
		return nil
	default:
		return fileErr(c.dir, "", errors.New("more than one kustomization file: "+strings.Join(found, ", ")))
	}
}
