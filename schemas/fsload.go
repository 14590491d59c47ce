package schemas

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
)

// SpecFile is the name of a cluster's spec in its directory
// (clusters/<name>/cluster.yaml).
const SpecFile = "cluster.yaml"

// LoadFS reads and parses dir/cluster.yaml from fsys (a Git snapshot, an
// os.DirFS...), with the same refusals as Load: symbolic links, anything
// but a regular file, files over MaxFileSize. dir is a slash path.
func LoadFS(fsys fs.FS, dir string) (*CassandraCluster, error) {
	file := path.Join(dir, SpecFile)
	fi, err := fs.Lstat(fsys, file)
	if err != nil {
		return nil, ioError(file, err)
	}
	if err := checkFileInfo(file, fi); err != nil {
		return nil, err
	}
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, ioError(file, err)
	}
	if len(data) > MaxFileSize {
		return nil, tooLarge(file, int64(len(data)))
	}
	return Parse(file, data)
}

// FindClusters lists the directories below root (a slash path, "." for
// the whole of fsys) that hold a cluster.yaml, sorted. It does not descend
// into .git and regions directories (a region's Component is not a
// cluster). A missing root holds no cluster.
func FindClusters(fsys fs.FS, root string) ([]string, error) {
	if fsys == nil {
		return nil, nil
	}
	var out []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == root && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() && p != root && (d.Name() == ".git" || d.Name() == "regions") {
			return fs.SkipDir
		}
		if !d.IsDir() && d.Name() == SpecFile {
			out = append(out, path.Dir(p))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("finding clusters below %s: %w", root, err)
	}
	slices.Sort(out)
	return out, nil
}
