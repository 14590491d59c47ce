package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateRefusesTwoDirectoriesOfOneRing: a copy of a cluster's
// directory (same name and namespace) makes both invalid, each error
// naming the other file.
func TestValidateRefusesTwoDirectoriesOfOneRing(t *testing.T) {
	root := brokenRepo(t, func(dir string) {
		require.NoError(t, os.CopyFS(filepath.Join(filepath.Dir(dir), "orders-copy"), os.DirFS(example)))
	})
	code, out, errs := ringops(t, "validate", root)
	assert.Equal(t, ExitInvalid, code)
	a, b := filepath.Join(root, "clusters", "orders", "cluster.yaml"), filepath.Join(root, "clusters", "orders-copy", "cluster.yaml")
	assert.Contains(t, errs, a+":")
	assert.Contains(t, errs, "metadata.name: cluster orders in namespace cassandra is also declared by "+b)
	assert.Contains(t, errs, "metadata.name: cluster orders in namespace cassandra is also declared by "+a)
	assert.NotContains(t, out, "valid:")
}

// TestPlanRefusesTwoDirectoriesOfOneRing: the same through `ringops plan`.
func TestPlanRefusesTwoDirectoriesOfOneRing(t *testing.T) {
	g := newGitRepo(t)
	require.NoError(t, os.CopyFS(filepath.Join(g.dir, "clusters", "orders-copy"), os.DirFS(example)))
	g.commit("copy the orders cluster")
	code, out, _ := ringops(t, "plan", "--base", "HEAD~1", g.dir)
	assert.Equal(t, ExitInvalid, code, out)
	assert.Contains(t, out, "is also declared by clusters/orders-copy/cluster.yaml")
	assert.Contains(t, out, "is also declared by clusters/orders/cluster.yaml")
}
