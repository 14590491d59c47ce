package bench

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ringops/ringops/test/gitserver"
)

// example is the example cluster whose structure every benchmark cluster
// copies: its regions/<context>/ Components, renamed.
const example = "../../clusters-example/clusters/orders"

// clusterSpec is a small cluster named %[1]s in namespace %[1]s: one
// datacenter of one node per region of the world, no settle time.
const clusterSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata:
  name: %[1]s
  namespace: %[1]s
spec:
  image: cassandra:4.1.5
  nodesPerRack: 1
  seedsPerDatacenter: 1
  resources:
    requests: {cpu: 100m, memory: 256Mi}
  storage:
    size: 1Gi
  jolokia:
    port: 8778
  rollout:
    healthTimeout: 30m
    settle: 0s
  datacenters:
    - {name: dc1, context: eu-west, dnsDomain: dc1.%[1]s.db.example.com, replicationFactor: 1, racks: [{name: r1}]}
    - {name: dc2, context: us-east, dnsDomain: dc2.%[1]s.db.example.com, replicationFactor: 1, racks: [{name: r1}]}
    - {name: dc3, context: ap-south, dnsDomain: dc3.%[1]s.db.example.com, replicationFactor: 1, racks: [{name: r1}]}
`

// clusterName is the name (and namespace) of the i-th cluster.
func clusterName(i int) string { return fmt.Sprintf("ring%03d", i) }

// clusterFiles are the files of n clusters under clusters/: each a
// cluster.yaml and the example's regions/, with "orders" renamed.
func clusterFiles(tb testing.TB, n int) map[string]string {
	tb.Helper()
	regions := exampleRegions(tb)
	files := map[string]string{}
	for i := range n {
		name := clusterName(i)
		dir := "clusters/" + name + "/"
		files[dir+"cluster.yaml"] = fmt.Sprintf(clusterSpec, name)
		for rel, content := range regions {
			files[dir+rel] = strings.ReplaceAll(content, "orders", name)
		}
	}
	return files
}

// exampleRegions reads the example's regions/ tree: slash path -> content.
func exampleRegions(tb testing.TB) map[string]string {
	tb.Helper()
	out := map[string]string{}
	root := filepath.Join(example, "regions")
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(example, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	if err != nil {
		tb.Fatalf("example regions: %v", err)
	}
	if len(out) == 0 {
		tb.Fatalf("example regions: no file under %s", root)
	}
	return out
}

// serveClusters commits n clusters in a new repository and serves it over
// HTTP until the benchmark ends; it returns the repository's URL.
func serveClusters(b *testing.B, n int) string {
	b.Helper()
	repo := gitserver.NewRepo(b, gitserver.DefaultRepoOptions())
	repo.CommitAndPush(fmt.Sprintf("%d clusters x 3 regions", n), clusterFiles(b, n))
	return gitserver.NewHTTP(b, repo, gitserver.DefaultHTTPOptions()).URL()
}
