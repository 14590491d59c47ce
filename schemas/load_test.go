package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const exampleSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: orders, namespace: cassandra}
spec:
  image: cassandra:4.1.5
  nodesPerRack: 3
  seedsPerDatacenter: 3
  resources: {requests: {cpu: "2", memory: 8Gi}}
  storage: {size: 100Gi, storageClassName: fast}
  config: {cassandra-yaml: {num_tokens: 16}}
  jolokia: {port: 8778, credentialsSecret: jolokia-auth}
  rollout: {healthTimeout: 30m, settle: 10s, paused: false, windows: [{schedule: "0 1 * * *", duration: 4h}]}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}, {name: r2}, {name: r3}]}
    - {name: dc2, context: us-east, nodesPerRack: 2, racks: [{name: r1}, {name: r2}, {name: r3}]}
`

// writeFile writes a file in a fresh temporary directory.
func writeFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// mustFail loads path and returns the error text, failing the test when
// Load succeeds or returns something other than an ErrorList naming path.
func mustFail(t *testing.T, path string) string {
	t.Helper()
	c, err := Load(path)
	if err == nil || c != nil {
		t.Fatalf("Load(%s) = %v, %v; want an error and no cluster", path, c, err)
	}
	if _, ok := AsErrorList(err); !ok {
		t.Fatalf("error is %T, not an ErrorList: %v", err, err)
	}
	if !strings.HasPrefix(err.Error(), path) {
		t.Errorf("error does not start with the file name %s: %v", path, err)
	}
	return err.Error()
}

func TestLoadExample(t *testing.T) {
	p := writeFile(t, "cluster.yaml", []byte(exampleSpec))
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.File() != p {
		t.Errorf("File() = %q, want %q", c.File(), p)
	}
	if got := c.StatefulSetName("dc2", "r2"); got != "orders-dc2-r2" {
		t.Errorf("StatefulSetName = %s", got)
	}
	if n := c.Spec.Datacenters[1].DatacenterNodes(); n != 6 {
		t.Errorf("dc2 has %d nodes, want 6 (3 racks x nodesPerRack 2)", n)
	}
	if got := fmt.Sprint(c.Contexts()); got != "[eu-west us-east]" {
		t.Errorf("Contexts() = %s", got)
	}
	if got := c.Spec.Config.CassandraYAML["num_tokens"]; got != 16 {
		t.Errorf("cassandra-yaml num_tokens = %#v, want 16", got)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, "cluster.yaml", []byte(exampleSpec))
	link := filepath.Join(dir, "link.yaml")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	// 50 MiB of YAML, written as a sparse tail after a real header.
	if _, err := f.WriteString(exampleSpec + "#"); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(50 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	for _, tc := range []struct{ name, path, want string }{
		{"symlink", link, "is a symbolic link; ringops reads only regular files"},
		{"directory", dir, "is a directory; expected the cluster spec file"},
		{"over 50 MB", huge, "file is 52428800 bytes, over the limit of 1048576 bytes (1 MiB)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := mustFail(t, tc.path); !strings.Contains(got, tc.want) {
				t.Errorf("error %q does not contain %q", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := Load(p)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v; want fs.ErrNotExist", err)
	}
	if want := p + ": lstat: no such file or directory"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// TestParseHostileInput feeds input meant to crash, hang or exhaust the
// parser: each must end in a clear error naming the file.
func TestParseHostileInput(t *testing.T) {
	const header = "apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: x}\nspec:\n  image: cassandra\n  storage: {size: 1Gi}\n"
	var laughs strings.Builder
	laughs.WriteString(header + "  config:\n    cassandra-yaml:\n      l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&laughs, "      l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	laughs.WriteString("  datacenters: [{name: dc1, context: c, racks: [{name: r1}]}]\n")
	racks := "[&k {name: r}" + strings.Repeat(", *k", 1000) + "]"
	typedBomb := header + "  datacenters: [&d {name: a, context: b, racks: " + racks + "}" + strings.Repeat(", *d", 1000) + "]\n"
	deepFlow := strings.Repeat("[", 5000) + strings.Repeat("]", 5000)
	deepest := strings.Repeat("[", 20000) + strings.Repeat("]", 20000)
	var deepBlock strings.Builder
	deepBlock.WriteString("apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: x}\nspec:\n  config:\n    cassandra-yaml:\n")
	for i := range 300 {
		fmt.Fprintf(&deepBlock, "%sk:\n", strings.Repeat(" ", 6+i))
	}
	manyNames := header + "  datacenters: [" + strings.TrimSuffix(strings.Repeat("{name: X, context: c, racks: [{name: r}]}, ", 500), ", ") + "]\n"
	manyErrors := "apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\nmetadata: {name: x}\nspec:\n  datacenters: &d [" + strings.TrimSuffix(strings.Repeat("1, ", 5000), ", ") + "]\n"

	for _, tc := range []struct{ name, data, want string }{
		{"billion laughs", laughs.String(), "too many nodes after alias expansion"},
		{"laughs at the root are not expanded", "apiVersion: ringops.dev/v1alpha1\nkind: CassandraCluster\na: &a [x, x]\nb: &b [*a, *a]\n", "a: unknown field"},
		{"aliases in typed fields", typedBomb, "too many nodes after alias expansion"},
		{"deep flow nesting in free-form", strings.Replace(exampleSpec, "{num_tokens: 16}", "{deep: "+deepFlow+"}", 1), "nested deeper than 100 levels"},
		{"nesting deeper than the YAML parser allows", deepest, "invalid YAML: exceeded max depth of 10000"},
		{"deep block nesting", deepBlock.String(), "nested deeper than 100 levels"},
		{"thousands of errors", manyErrors, "stopped after 100 errors; fix these first"},
		{"thousands of validation errors", manyNames, "and 901 more errors; fix these first"},
		{"garbage", "\x00\x01\x02\xff\xfe", "not a text file: control character U+0000"},
		{"only a BOM", "\ufeff", "file is empty"},
		{"tab indentation", "apiVersion: x\n\tkind: y\n", "invalid YAML"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("clusters/x/cluster.yaml", []byte(tc.data))
			if err == nil || c != nil {
				t.Fatalf("Parse succeeded; want an error containing %q", tc.want)
			}
			got := err.Error()
			if !strings.HasPrefix(got, "clusters/x/cluster.yaml") || !strings.Contains(got, tc.want) {
				t.Errorf("error %q\ndoes not name the file or contain %q", truncate(got, 2000), tc.want)
			}
			if l, _ := AsErrorList(err); len(l) > maxDecodeErrors+1 {
				t.Errorf("%d errors; the list should stop at %d", len(l), maxDecodeErrors)
			}
		})
	}
}

func TestParseRefusesOversizedData(t *testing.T) {
	data := append([]byte(exampleSpec), bytes.Repeat([]byte("# padding\n"), MaxFileSize/10)...)
	_, err := Parse("big.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "over the limit of 1048576 bytes") {
		t.Fatalf("Parse of %d bytes: %v", len(data), err)
	}
}
