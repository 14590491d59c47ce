package git

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"testing"
)

// Run: go test ./sources/git -run '^$' -bench . -benchmem
// The no-op poll target is BenchmarkNoopPoll / BenchmarkGitLsRemote < 1.2.

func BenchmarkNoopPoll(b *testing.B) {
	r := newRepo(b)
	r.commit(map[string]string{"clusters/orders/cluster.yaml": "kind: CassandraCluster\n"}, "one")
	srv := startHTTP(b, r)
	p := mustPoller(b, testOptions(srv.URL))
	mustChange(b, p)
	_, packsBefore := srv.counts()
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		if _, changed, err := p.Poll(ctx); changed || err != nil {
			b.Fatalf("no-op poll: changed=%v err=%v", changed, err)
		}
	}
	_, packs := srv.counts()
	b.ReportMetric(float64(packs-packsBefore), "fetches")
}

func BenchmarkGitLsRemote(b *testing.B) {
	r := newRepo(b)
	r.commit(map[string]string{"clusters/orders/cluster.yaml": "kind: CassandraCluster\n"}, "one")
	srv := startHTTP(b, r, withProtocolV2()) // the git CLI as it talks to a forge
	b.ResetTimer()
	for b.Loop() {
		cmd := exec.Command("git", "ls-remote", srv.URL, "refs/heads/main")
		cmd.Env = r.env
		if out, err := cmd.Output(); err != nil || !strings.Contains(string(out), "refs/heads/main") {
			b.Fatalf("git ls-remote: %v %s", err, out)
		}
	}
}

// BenchmarkFetchNewRevision1000 measures a poll that finds a new head in a
// repository with 1,000 commits of history (50 cluster files): ls-remote,
// shallow fetch of the new head, tree into memory. The head alternates
// between commit 1,000 and commit 1,001 so that every poll sees a change.
func BenchmarkFetchNewRevision1000(b *testing.B) {
	r := newRepo(b)
	if _, err := r.runErr(r.work, fastImport(1000, 50), "fast-import", "--quiet"); err != nil {
		b.Fatal(err)
	}
	r.git("reset", "-q", "--hard", "main")
	heads := []string{r.git("rev-parse", "HEAD"), r.commit(map[string]string{"clusters/c0/cluster.yaml": "one more\n"}, "1001")}
	srv := startHTTP(b, r)
	p := mustPoller(b, testOptions(srv.URL))
	mustChange(b, p) // at commit 1,001
	ctx := context.Background()
	i := 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		r.push(heads[i%2], "refs/heads/main")
		i++
		b.StartTimer()
		if _, changed, err := p.Poll(ctx); !changed || err != nil {
			b.Fatalf("poll of a new head: changed=%v err=%v", changed, err)
		}
	}
}

// fastImport returns a git fast-import stream of n commits on main, each
// changing one of files cluster files.
func fastImport(n, files int) []byte {
	var s strings.Builder
	for i := 1; i <= n; i++ {
		msg := fmt.Sprintf("commit %d\n", i)
		content := fmt.Sprintf("kind: CassandraCluster\nmetadata: {name: c%d}\nspec: {nodesPerRack: %d}\n", i%files, i)
		fmt.Fprintf(&s, "commit refs/heads/main\nmark :%d\ncommitter Ada <ada@example.com> %d +0000\ndata %d\n%s", i, 1700000000+i, len(msg), msg)
		if i > 1 {
			fmt.Fprintf(&s, "from :%d\n", i-1)
		}
		fmt.Fprintf(&s, "M 100644 inline clusters/c%d/cluster.yaml\ndata %d\n%s\n", i%files, len(content), content)
	}
	return []byte(s.String())
}
