package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/ringops/ringops/test/gitserver"
)

// BenchmarkPlanGit100Clusters is `ringops plan --base HEAD~1 -o json` in
// a real Git repository of 100 clusters, one of which bumps its image:
// both revisions read with go-git, then review.Compare (which renders
// the changed cluster only, see review.BenchmarkPlan100Clusters).
func BenchmarkPlanGit100Clusters(b *testing.B) {
	repo := gitserver.NewRepo(b, gitserver.DefaultRepoOptions())
	dir := repo.Work
	write := func(i int, image string) {
		name := fmt.Sprintf("c%03d", i)
		p := filepath.Join(dir, "clusters", name, "cluster.yaml")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		spec := fmt.Sprintf(`apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: %s, namespace: cassandra}
spec:
  image: %s
  storage: {size: 10Gi}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}, {name: r2}]}
    - {name: dc2, context: us-east, racks: [{name: r1}]}
    - {name: dc3, context: ap-south, racks: [{name: r1}]}
`, name, image)
		if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	commit := func(msg string) { repo.Commit(msg) }
	for i := range 100 {
		write(i, "cassandra:4.1.4")
	}
	commit("100 clusters")
	write(42, "cassandra:4.1.5")
	commit("bump c042")
	b.ReportAllocs()
	for b.Loop() {
		if code := Main([]string{"plan", "--base", "HEAD~1", "-o", "json", dir}, io.Discard, io.Discard); code != ExitChanges {
			b.Fatalf("exit %d", code)
		}
	}
}
