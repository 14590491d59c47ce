package render

import (
	"context"
	"os"
	"path"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/testkit/golden"
	"github.com/ringops/ringops/schemas"
)

// exampleRepo is the example repository users copy.
const exampleRepo = "../clusters-example"

// goldenCase is a repository holding one cluster, and the directory of its
// want-<context>.yaml files.
type goldenCase struct {
	name string
	repo string
	want string
}

// goldenCases: testdata/<case>/repo/, plus the example repository whose
// goldens live in testdata/example/.
func goldenCases(t *testing.T) []goldenCase {
	cases := []goldenCase{{name: "example", repo: exampleRepo, want: "testdata/example"}}
	entries, err := os.ReadDir("testdata")
	require.NoError(t, err)
	for _, e := range entries {
		repo := filepath.Join("testdata", e.Name(), "repo")
		if st, err := os.Stat(repo); err == nil && st.IsDir() {
			cases = append(cases, goldenCase{name: e.Name(), repo: repo, want: filepath.Join("testdata", e.Name())})
		}
	}
	return cases
}

// openRepo returns the repository as the renderer reads it, the slash path
// of its only cluster directory, and the parsed cluster.
func openRepo(t testing.TB, repo string) (*os.Root, string, *schemas.CassandraCluster) {
	t.Helper()
	specs, err := filepath.Glob(filepath.Join(repo, "clusters", "*", "cluster.yaml"))
	require.NoError(t, err)
	require.Len(t, specs, 1, "%s: want exactly one clusters/<name>/cluster.yaml", repo)
	c, err := schemas.Load(specs[0])
	require.NoError(t, err)
	root, err := os.OpenRoot(repo)
	require.NoError(t, err)
	t.Cleanup(func() { root.Close() })
	return root, path.Join("clusters", filepath.Base(filepath.Dir(specs[0]))), c
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			root, dir, c := openRepo(t, tc.repo)
			all, err := New(DefaultOptions()).RenderAll(context.Background(), root.FS(), dir, c)
			require.NoError(t, err)
			wanted, err := filepath.Glob(filepath.Join(tc.want, "want-*.yaml"))
			require.NoError(t, err)
			rendered := map[string]bool{}
			for _, m := range all {
				file := filepath.Join(tc.want, "want-"+m.Context+".yaml")
				rendered[file] = true
				golden.Assert(t, file, m.YAML())
			}
			for _, w := range wanted {
				if !golden.Update() {
					require.True(t, rendered[w], "%s: no such context in the cluster", w)
				} else if !rendered[w] {
					require.NoError(t, os.Remove(w))
				}
			}
		})
	}
}
