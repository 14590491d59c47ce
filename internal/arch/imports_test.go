package arch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/ringops/ringops/"

// pkg is what go list says of one package of the module.
type pkg struct {
	ImportPath string
	Imports    []string // its own files' imports (tests excluded)
	Deps       []string // everything it depends on, transitively
}

// pure are the packages of the pure middle: the planner with its replay
// world, review, which describes the planner's replay, and the CassKop
// importer (manifests in, files out).
var pure = []string{"schemas", "render", "reconciler/ring", "reconciler/plan", "reconciler/plan/", "review", "importer/casskop"}

// ioOfRingops are ringops' packages that do I/O (or drive those that do):
// a prefix ends with "/", else the path is exact.
var ioOfRingops = []string{"reconciler", "reconciler/daemon", "reconciler/daemon/", "reconciler/kube", "reconciler/ring/jolokia",
	"reconciler/cql", "sources/", "cmd/", "review/pullrequests", "test/"}

// ioLibraries are the I/O clients of other modules the pure middle never
// depends on, even through another package.
var ioLibraries = []string{"k8s.io/client-go/rest", "k8s.io/client-go/kubernetes", "k8s.io/client-go/tools/",
	"github.com/go-git/", "github.com/apache/cassandra-gocql-driver/"}

// ioDirect are what a pure package does not import itself (net/http comes
// with k8s.io/api's types, through k8s.io/apimachinery, so only the
// package's own imports are checked).
var ioDirect = []string{"net/http", "os/exec"}

// edges are the packages that talk to the world; the loop drives them.
var edges = []string{"reconciler/kube", "reconciler/ring/jolokia", "reconciler/cql", "sources/git", "sources/forge"}

// loop is what the edges never import: the engine, the daemon with its
// leader election, cmd.
var loop = []string{"reconciler", "reconciler/daemon", "reconciler/daemon/", "cmd/"}

// leaves are shared by every stage and edge (the label and annotation
// contract, the redacting secret, the text redactor, the copy of decoded
// trees): they import only the
// standard library, so that importing one pulls in nothing else (no
// kustomize into an edge that names a label, no go-git into a forge client
// that holds a token).
var leaves = []string{"internal/contract", "internal/secret", "internal/redact", "internal/jsontree"}

// forges are the forge clients: they speak HTTP to a forge's API, and never
// depend on go-git, which is sources/git's alone.
var forges = []string{"sources/forge", "sources/forge/"}

// testkit are the helpers of ringops' tests (the golden files with their
// -update flag, the polling wait): only tests and the test tooling of
// test/ import them, never a package the ringops binary is built from.
var testkit = []string{"internal/testkit/"}

// testTooling is the test module's code: worlds, harnesses, fixtures.
var testTooling = []string{"test/"}

// goGit is the Git library only sources/git may depend on among the edges.
var goGit = []string{"github.com/go-git/"}

// standard reports whether path is a package of the standard library: its
// first element has no dot (as the go command tells them apart).
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// flow ranks the stages in the order the data goes through them: a
// package depends only on packages of its rank or lower. The ring model
// is a value package the planner reads, beside it; "ring" in the flow is
// its Jolokia client.
var flow = []struct {
	rank int
	pkgs []string
}{
	{0, []string{"sources/git"}},
	{1, []string{"schemas"}},
	{2, []string{"render"}},
	{3, []string{"reconciler/plan", "reconciler/plan/", "reconciler/ring"}},
	{4, []string{"reconciler/kube", "reconciler/ring/jolokia", "reconciler/cql"}},
	{5, []string{"sources/forge", "sources/forge/"}},
}

// matches reports whether path (relative to the module, or a full import
// path for other modules) is one of patterns: a pattern ending in "/" is a
// prefix, else an exact path.
func matches(path string, patterns []string) bool {
	for _, p := range patterns {
		if path == p || strings.HasSuffix(p, "/") && strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

func local(path string) (string, bool) { return strings.CutPrefix(path, module) }

// rank is a package's stage in the flow, -1 when it has none.
func rank(path string) int {
	for _, st := range flow {
		if matches(path, st.pkgs) {
			return st.rank
		}
	}
	return -1
}

// violations lists every broken rule of a graph, sorted.
func violations(graph map[string]pkg) []string {
	var out []string
	for _, path := range slices.Sorted(maps.Keys(graph)) {
		p := graph[path]
		name, _ := local(path)
		if matches(name, pure) {
			out = append(out, pureViolations(name, p)...)
		}
		if matches(name, leaves) {
			out = append(out, depViolation(name+" is a leaf", p.Deps, func(d string) bool { return !standard(d) },
				"it imports only the standard library")...)
		}
		if matches(name, forges) {
			out = append(out, depViolation(name+" is a forge client", p.Deps, func(d string) bool { return matches(d, goGit) },
				"go-git is sources/git's alone")...)
		}
		for _, dep := range p.Deps {
			dn, ok := local(dep)
			switch {
			case !ok:
			case matches(dn, testkit) && !matches(name, testkit) && !matches(name, testTooling):
				out = append(out, fmt.Sprintf("%s depends on the test kit %s: only tests import it", name, dn))
			case matches(name, edges) && matches(dn, loop):
				out = append(out, fmt.Sprintf("%s is an edge and depends on the loop %s", name, dn))
			case rank(name) >= 0 && rank(dn) > rank(name):
				out = append(out, fmt.Sprintf("%s (stage %d) depends on %s (stage %d): against the flow git -> schemas -> render -> plan -> kube/ring -> forge",
					name, rank(name), dn, rank(dn)))
			}
		}
	}
	return out
}

// depViolation is one line for a package whose deps include bad ones: the
// first (go list sorts them) and how many more, as one import brings many.
func depViolation(subject string, deps []string, bad func(string) bool, why string) []string {
	var found []string
	for _, dep := range deps {
		if bad(dep) {
			found = append(found, dep)
		}
	}
	switch len(found) {
	case 0:
		return nil
	case 1:
		return []string{fmt.Sprintf("%s and depends on %s: %s", subject, found[0], why)}
	}
	return []string{fmt.Sprintf("%s and depends on %s (and %d more): %s", subject, found[0], len(found)-1, why)}
}

func pureViolations(name string, p pkg) []string {
	var out []string
	for _, imp := range p.Imports {
		if slices.Contains(ioDirect, imp) {
			out = append(out, fmt.Sprintf("%s is pure and imports %s", name, imp))
		}
	}
	for _, dep := range p.Deps {
		dn, ok := local(dep)
		switch {
		case ok && matches(dn, ioOfRingops):
			out = append(out, fmt.Sprintf("%s is pure and depends on ringops' I/O package %s", name, dn))
		case !ok && matches(dep, ioLibraries):
			out = append(out, fmt.Sprintf("%s is pure and depends on the I/O client %s", name, dep))
		}
	}
	return out
}

// moduleGraph asks go list for every package of the module.
func moduleGraph(t *testing.T) map[string]pkg {
	t.Helper()
	readSources(t)
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports,Deps", module+"...")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		t.Fatalf("go list: %v\n%s", err, ee.Stderr)
	}
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string]pkg{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list: %v", err)
		}
		graph[p.ImportPath] = p
	}
	for _, name := range slices.Concat(pure, edges, leaves, forges) {
		if _, ok := graph[module+name]; !ok && !strings.HasSuffix(name, "/") {
			t.Fatalf("package %s is not in the module: update the rules of this test", name)
		}
	}
	return graph
}

// readSources reads every Go file of the module, so that go test's cache,
// which cannot see what go list reads, runs this test again when an
// import changes.
func readSources(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(filepath.Join("..", ".."), func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && path != filepath.Join("..", "..") && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata"):
			return filepath.SkipDir
		case !d.IsDir() && strings.HasSuffix(path, ".go"):
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatalf("read the module's sources: %v", err)
	}
}

func TestPackageRules(t *testing.T) {
	for _, v := range violations(moduleGraph(t)) {
		t.Error(v)
	}
}

// TestPackageRulesCatchPlantedImports plants forbidden imports in the real
// graph: each must be reported, so that the rules above can fail.
func TestPackageRulesCatchPlantedImports(t *testing.T) {
	graph := moduleGraph(t)
	for _, tc := range []struct{ from, imp, want string }{
		{"reconciler/plan", module + "reconciler/ring/jolokia", "pure and depends on ringops' I/O package reconciler/ring/jolokia"},
		{"reconciler/ring", "k8s.io/client-go/rest", "pure and depends on the I/O client k8s.io/client-go/rest"},
		{"render", "net/http", "pure and imports net/http"},
		{"schemas", "github.com/go-git/go-git/v5", "depends on the I/O client github.com/go-git/go-git/v5"},
		{"reconciler/kube", module + "reconciler", "edge and depends on the loop reconciler"},
		{"sources/forge", module + "reconciler/daemon/leader", "edge and depends on the loop reconciler/daemon/leader"},
		{"render", module + "reconciler/daemon/leader", "pure and depends on ringops' I/O package reconciler/daemon/leader"},
		{"schemas", module + "render", "schemas (stage 1) depends on render (stage 2)"},
		{"reconciler/ring/jolokia", module + "sources/forge/github", "against the flow"},
		{"internal/contract", "k8s.io/apimachinery/pkg/util/validation", "internal/contract is a leaf and depends on k8s.io/apimachinery/pkg/util/validation"},
		{"internal/secret", module + "sources/git", "internal/secret is a leaf and depends on github.com/ringops/ringops/sources/git"},
		{"cmd/ringops", module + "internal/testkit/golden", "cmd/ringops depends on the test kit internal/testkit/golden: only tests import it"},
		{"sources/forge", "github.com/go-git/go-git/v5", "sources/forge is a forge client and depends on github.com/go-git/go-git/v5"},
		{"sources/forge/github", "github.com/go-git/go-git/v5/plumbing", "sources/forge/github is a forge client and depends on github.com/go-git/"},
	} {
		t.Run(tc.from+"->"+tc.imp, func(t *testing.T) {
			planted := maps.Clone(graph)
			p := planted[module+tc.from]
			p.Imports = append(slices.Clone(p.Imports), tc.imp)
			p.Deps = append(slices.Clone(p.Deps), tc.imp)
			planted[module+tc.from] = p
			got := strings.Join(violations(planted), "\n")
			if !strings.Contains(got, tc.want) {
				t.Errorf("planted import %s in %s: want a violation %q, got:\n%s", tc.imp, tc.from, tc.want, got)
			}
		})
	}
}
