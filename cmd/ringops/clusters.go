package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/ringops/ringops/schemas"
)

// specFile is the name of a cluster's spec inside clusters/<name>/.
const specFile = "cluster.yaml"

// clusterDir is one cluster directory of a repository, loaded from disk.
type clusterDir struct {
	Path    string // as the user named it, for messages
	Cluster *schemas.CassandraCluster
	FS      fs.FS // the cluster directory, confined (symlinks cannot escape it)
}

// loadClusterDir loads path/cluster.yaml (path may also name the file itself)
// and opens the directory for the renderer.
func loadClusterDir(path string) (*clusterDir, error) {
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path)
	}
	c, err := schemas.Load(filepath.Join(dir, specFile))
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &clusterDir{Path: dir, Cluster: c, FS: root.FS()}, nil
}

// findClusterDirs expands the paths a user gave into cluster directories: a
// cluster directory or its cluster.yaml stands for itself; any other
// directory stands for every directory below it holding a cluster.yaml
// (a repository root, or its clusters/ folder). The result is sorted.
func findClusterDirs(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() || exists(filepath.Join(p, specFile)) {
			out = append(out, p)
			continue
		}
		found, err := walkClusterDirs(p)
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no %s below this directory; expected clusters/<name>/%s", p, specFile, specFile)
		}
		out = append(out, found...)
	}
	sort.Strings(out)
	return out, nil
}

// walkClusterDirs lists the cluster directories below root
// (schemas.FindClusters), as paths under root.
func walkClusterDirs(root string) ([]string, error) {
	dirs, err := schemas.FindClusters(os.DirFS(root), ".")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", root, err)
	}
	for i, d := range dirs {
		dirs[i] = filepath.Join(root, filepath.FromSlash(d))
	}
	return dirs, nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return !errors.Is(err, fs.ErrNotExist)
}
