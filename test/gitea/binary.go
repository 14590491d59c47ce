package gitea

import (
	"context"

	"github.com/ringops/ringops/test/tools/toolcache"
)

// EnvDir names the environment variable that points at a directory holding
// the gitea binary and its options/ and templates/; when unset, BinDir
// builds them.
const EnvDir = "RINGOPS_GITEA_DIR"

// BinDir returns the directory holding gitea, options/ and templates/:
// $RINGOPS_GITEA_DIR when set, else the cache filled by
// test/tools/gitea/build.sh, which it runs (a cached build returns at once;
// a cold one takes 10-15 minutes).
func BinDir(ctx context.Context) (string, error) {
	return toolcache.Tool{
		Name:   "gitea binary",
		Env:    EnvDir,
		Script: "test/tools/gitea/build.sh",
		Files:  []string{"gitea", "options", "templates"},
	}.Dir(ctx)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
