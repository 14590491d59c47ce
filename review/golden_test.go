package review

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/internal/testkit/golden"
	"github.com/ringops/ringops/reconciler/plan/sim"
)

// goldenNow is when the goldens evaluate change windows: a Sunday noon,
// UTC (13:00 in Paris).
var goldenNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// pairs lists every case of testdata/pairs/<case>/{base,head} with the
// outcome `ringops plan` exits with.
var pairs = map[string]Outcome{
	"scale-up":          Changes,
	"scale-down":        Changes,
	"add-dc":            Changes,
	"empty-dc":          Changes,
	"remove-dc":         Changes,
	"remove-dc-refused": Invalid,
	"rename-dc":         Invalid,
	"image-bump":        Changes,
	"config-change":     Changes,
	"seed-change":       Changes,
	"seed-change-image": Changes,
	"storage-shrink":    Invalid,
	"storage-grow":      Changes,
	"component-only":    Changes,
	"windows":           Changes,
	"paused":            Changes,
	"comment-only":      NoChange,
	"new-cluster":       Changes,
	"removed-cluster":   Changes,
	"remove-node":       Changes, // replace (#16)
	// with --manage-keyspaces (a file manage-keyspaces in the pair, #15)
	"add-dc-keyspaces":     Changes,
	"scale-down-keyspaces": Changes,
}

// manageKeyspaces: the pair is planned as with --manage-keyspaces.
func manageKeyspaces(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "manage-keyspaces"))
	return err == nil
}

func comparePair(t testing.TB, name string) *Document {
	t.Helper()
	return comparePairWith(t, name, nil)
}

// comparePairWith is comparePair describing planner's steps (nil: plan.Next).
func comparePairWith(t testing.TB, name string, planner sim.Planner) *Document {
	t.Helper()
	dir := filepath.Join("testdata", "pairs", name)
	opts := DefaultOptions()
	opts.Now = goldenNow
	opts.ManageKeyspaces = manageKeyspaces(dir)
	opts.Planner = planner
	doc, err := Compare(t.Context(), Tree{Revision{Name: "main"}, dirFS(filepath.Join(dir, "base"))},
		Tree{Revision{Name: "topic"}, dirFS(filepath.Join(dir, "head"))}, opts)
	require.NoError(t, err)
	return doc
}

// dirFS is the directory as a repository, nil when it does not exist.
func dirFS(dir string) fs.FS {
	if _, err := os.Stat(dir); err != nil {
		return nil
	}
	return os.DirFS(dir)
}

func TestGoldenPairs(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "pairs"))
	require.NoError(t, err)
	require.Len(t, entries, len(pairs), "every directory of testdata/pairs has its outcome in pairs")
	require.True(t, manageKeyspaces(filepath.Join("testdata", "pairs", "add-dc-keyspaces")))
	for name, want := range pairs {
		t.Run(name, func(t *testing.T) {
			doc := comparePair(t, name)
			assert.Equal(t, want, doc.Outcome, doc.Summary)
			golden.Assert(t, filepath.Join("testdata", "pairs", name, "want.txt"), doc.Text())
			golden.Assert(t, filepath.Join("testdata", "pairs", name, "want.md"), doc.Markdown(DefaultMarkdownOptions()))
		})
	}
}
