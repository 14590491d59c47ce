package render

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/schemas"
)

const ordersSpec = `apiVersion: ringops.dev/v1alpha1
kind: CassandraCluster
metadata: {name: orders, namespace: cassandra}
spec:
  image: cassandra:4.1.5
  storage: {size: 10Gi}
  datacenters:
    - {name: dc1, context: eu-west, racks: [{name: r1}, {name: r2}]}
    - {name: dc2, context: us-east, racks: [{name: r1}]}
`

const (
	regionDir       = "clusters/orders/regions/eu-west"
	regionFile      = regionDir + "/kustomization.yaml"
	componentHeader = "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n"
)

func ordersCluster(t testing.TB) *schemas.CassandraCluster {
	t.Helper()
	c, err := schemas.Parse("clusters/orders/cluster.yaml", []byte(ordersSpec))
	require.NoError(t, err)
	return c
}

// regionFS is a repository whose eu-west Component holds files.
func regionFS(files map[string]string) fstest.MapFS {
	fsys := fstest.MapFS{"clusters/orders/cluster.yaml": {Data: []byte(ordersSpec)}}
	for p, data := range files {
		fsys[regionDir+"/"+p] = &fstest.MapFile{Data: []byte(data)}
	}
	return fsys
}

func renderEUWest(t *testing.T, fsys fs.FS, opts Options) (*Manifests, error) {
	t.Helper()
	return New(opts).Render(context.Background(), fsys, "clusters/orders", ordersCluster(t), "eu-west")
}

// requireFileError asserts that err is sentinel, located in file (and
// field), and that its message names the file.
func requireFileError(t *testing.T, err error, sentinel error, file, field string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	var fe *FileError
	require.True(t, errors.As(err, &fe), "%v: not a *FileError", err)
	assert.Equal(t, file, fe.Path, "%v", err)
	assert.Equal(t, field, fe.Field, "%v", err)
	assert.Contains(t, err.Error(), file)
	assert.True(t, strings.HasPrefix(err.Error(), "cluster orders: context eu-west: "), "%v", err)
}

func TestComponentRefused(t *testing.T) {
	smp := "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: orders-dc9-r1, namespace: cassandra}\nspec: {replicas: 3}\n"
	tests := []struct {
		name     string
		files    map[string]string
		sentinel error
		file     string // relative to regionDir
		field    string
	}{
		{"path out of the component", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [../../../etc/passwd]\n",
		}, ErrEscapesComponent, "kustomization.yaml", "resources[0]"},
		{"patch from another region", map[string]string{
			"kustomization.yaml": componentHeader + "patches: [{path: ../us-east/patch.yaml}]\n",
		}, ErrEscapesComponent, "kustomization.yaml", "patches[0].path"},
		{"absolute path", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [/etc/passwd]\n",
		}, ErrEscapesComponent, "kustomization.yaml", "resources[0]"},
		{"generator file out of the component", map[string]string{
			"kustomization.yaml": componentHeader + "configMapGenerator: [{name: x, files: [passwd=../../../../etc/passwd]}]\n",
		}, ErrEscapesComponent, "kustomization.yaml", "configMapGenerator[0].files[0]"},
		{"nested kustomization escaping", map[string]string{
			"kustomization.yaml":     componentHeader + "components: [sub]\n",
			"sub/kustomization.yaml": componentHeader + "resources: [../../x.yaml]\n",
		}, ErrEscapesComponent, "sub/kustomization.yaml", "resources[0]"},
		{"https URL", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [\"https://raw.githubusercontent.com/org/repo/main/x.yaml\"]\n",
		}, ErrRemoteReference, "kustomization.yaml", "resources[0]"},
		{"github.com repository", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [github.com/kubernetes-sigs/kustomize/examples/helloWorld]\n",
		}, ErrRemoteReference, "kustomization.yaml", "resources[0]"},
		{"scp-style git URL", map[string]string{
			"kustomization.yaml": componentHeader + "components: [\"git@github.com:org/repo.git/base\"]\n",
		}, ErrRemoteReference, "kustomization.yaml", "components[0]"},
		{"git ref query", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [\"example.com/org/repo?ref=v1\"]\n",
		}, ErrRemoteReference, "kustomization.yaml", "resources[0]"},
		{"remote patch inside a transformer config", map[string]string{
			"kustomization.yaml": componentHeader + "transformers: [t.yaml]\n",
			"t.yaml":             "apiVersion: builtin\nkind: PatchTransformer\nmetadata: {name: t}\npath: https://example.com/patch.yaml\n",
		}, ErrRemoteReference, "kustomization.yaml", "transformers[0]"},
		{"a Kustomization, not a Component", map[string]string{
			"kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n",
		}, ErrNotComponent, "kustomization.yaml", "kind"},
		{"no kind", map[string]string{
			"kustomization.yaml": "commonLabels: {a: b}\n",
		}, ErrNotComponent, "kustomization.yaml", "kind"},
		{"Helm chart", map[string]string{
			"kustomization.yaml": componentHeader + "helmCharts: [{name: x, repo: https://charts.example.com}]\n",
		}, ErrUnsupported, "kustomization.yaml", ""},
		{"patch of a resource that does not exist", map[string]string{
			"kustomization.yaml": componentHeader + "patches: [{path: missing.yaml}]\n",
			"missing.yaml":       smp,
		}, ErrBuild, "kustomization.yaml", ""},
		{"patch target selecting nothing", map[string]string{
			"kustomization.yaml": componentHeader + "patches: [{path: sc.yaml, target: {kind: StatefulSet, name: orders-dc1-r9}}]\n",
			"sc.yaml":            "- {op: add, path: /spec/volumeClaimTemplates/0/spec/storageClassName, value: gp3}\n",
		}, ErrNoTarget, "kustomization.yaml", "patches[0].target"},
		{"renaming generated objects", map[string]string{
			"kustomization.yaml": componentHeader + "namePrefix: eu-\n",
		}, ErrRenamed, "kustomization.yaml", ""},
		{"replicas set by a Component", map[string]string{
			"kustomization.yaml": componentHeader + "replicas: [{name: orders-dc1-r2, count: 5}]\n",
		}, ErrReplicas, "kustomization.yaml", ""},
		{"invalid resource", map[string]string{
			"kustomization.yaml": componentHeader + "resources: [bad.yaml]\n",
			"bad.yaml":           "kind: [\n",
		}, ErrBuild, "kustomization.yaml", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := renderEUWest(t, regionFS(tt.files), DefaultOptions())
			requireFileError(t, err, tt.sentinel, regionDir+"/"+tt.file, tt.field)
		})
	}
}

func TestComponentBuildErrorNamesRepositoryPaths(t *testing.T) {
	_, err := renderEUWest(t, regionFS(map[string]string{
		"kustomization.yaml": componentHeader + "resources: [absent.yaml]\n",
	}), DefaultOptions())
	require.ErrorIs(t, err, ErrBuild)
	assert.Contains(t, err.Error(), regionDir+"/absent.yaml", "kustomize's message speaks of the repository's files")
	assert.NotContains(t, err.Error(), componentDir, "no path of the in-memory overlay")
}

// TestComponentOfAnyContextName: a kube context named as kubeadm names
// them ("kubernetes-admin@kubernetes") has its Component applied. The
// overlay used to put it under /regions/<context>, a directory name
// kustomize's in-memory filesystem refuses ("illegal name ... in
// directory creation"), so validate and render failed on it.
func TestComponentOfAnyContextName(t *testing.T) {
	const ctx = "kubernetes-admin@kubernetes"
	spec := strings.ReplaceAll(ordersSpec, "context: eu-west", "context: "+ctx)
	require.NotEqual(t, ordersSpec, spec)
	c, err := schemas.Parse("clusters/orders/cluster.yaml", []byte(spec))
	require.NoError(t, err)
	fsys := fstest.MapFS{
		"clusters/orders/cluster.yaml": {Data: []byte(spec)},
		"clusters/orders/regions/" + ctx + "/kustomization.yaml": {Data: []byte(componentHeader +
			"commonAnnotations: {example.com/region: admin}\n")},
	}
	m, err := New(DefaultOptions()).Render(context.Background(), fsys, "clusters/orders", c, ctx)
	require.NoError(t, err)
	var sts int
	for _, u := range m.Objects {
		if u.GetKind() == "StatefulSet" {
			sts++
			assert.Equal(t, "admin", u.GetAnnotations()["example.com/region"], "the Component of %s applied to %s", ctx, u.GetName())
		}
	}
	assert.Equal(t, 2, sts, "one StatefulSet per rack")
}

func TestComponentLimits(t *testing.T) {
	t.Run("huge file", func(t *testing.T) {
		huge := strings.Repeat("#", int(DefaultOptions().MaxFileSize)+1)
		_, err := renderEUWest(t, regionFS(map[string]string{
			"kustomization.yaml": componentHeader, "huge.yaml": huge,
		}), DefaultOptions())
		requireFileError(t, err, ErrTooLarge, regionDir+"/huge.yaml", "")
	})
	t.Run("file over a custom limit", func(t *testing.T) {
		_, err := renderEUWest(t, regionFS(map[string]string{
			"kustomization.yaml": componentHeader, "big.yaml": strings.Repeat("#", 2048),
		}), Options{MaxFileSize: 1024})
		requireFileError(t, err, ErrTooLarge, regionDir+"/big.yaml", "")
	})
	t.Run("too many files", func(t *testing.T) {
		_, err := renderEUWest(t, regionFS(map[string]string{
			"kustomization.yaml": componentHeader, "a": "", "b": "", "c": "",
		}), Options{MaxFiles: 3})
		requireFileError(t, err, ErrTooLarge, regionDir, "")
	})
	t.Run("too many bytes in all", func(t *testing.T) {
		_, err := renderEUWest(t, regionFS(map[string]string{
			"kustomization.yaml": componentHeader, "a": strings.Repeat("#", 600), "b": strings.Repeat("#", 600),
		}), Options{MaxTotalSize: 1000})
		requireFileError(t, err, ErrTooLarge, regionDir, "")
	})
}

func TestComponentNotADirectory(t *testing.T) {
	fsys := regionFS(nil)
	fsys[regionDir] = &fstest.MapFile{Data: []byte(componentHeader)}
	_, err := renderEUWest(t, fsys, DefaultOptions())
	requireFileError(t, err, ErrNotComponent, regionDir, "")

	_, err = renderEUWest(t, regionFS(map[string]string{"README.md": "notes"}), DefaultOptions())
	requireFileError(t, err, ErrNotComponent, regionDir, "")
}

// diskRepo writes a repository with the orders cluster and an eu-west
// Component patching the storage class from storage.yaml, and returns its
// directory (inside a parent holding outside.yaml, a file out of the repo).
func diskRepo(t *testing.T) string {
	t.Helper()
	parent := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(parent, "outside.yaml"), []byte("secret: 1\n"), 0o600))
	repo := filepath.Join(parent, "repo")
	region := filepath.Join(repo, filepath.FromSlash(regionDir))
	require.NoError(t, os.MkdirAll(region, 0o755))
	require.NoError(t, os.MkdirAll(filepath.Join(repo, "shared"), 0o755))
	write := func(p, data string) {
		require.NoError(t, os.WriteFile(filepath.Join(repo, filepath.FromSlash(p)), []byte(data), 0o644))
	}
	write("clusters/orders/cluster.yaml", ordersSpec)
	write(regionFile, componentHeader+"patches: [{path: storage.yaml, target: {kind: StatefulSet}}]\n")
	write("shared/storage.yaml", "- {op: add, path: /spec/volumeClaimTemplates/0/spec/storageClassName, value: shared-class}\n")
	return repo
}

func TestComponentSymlinks(t *testing.T) {
	fsFor := map[string]func(t *testing.T, dir string) fs.FS{
		"os.Root": func(t *testing.T, dir string) fs.FS {
			root, err := os.OpenRoot(dir)
			require.NoError(t, err)
			t.Cleanup(func() { root.Close() })
			return root.FS()
		},
		"os.DirFS": func(_ *testing.T, dir string) fs.FS { return os.DirFS(dir) },
		// A filesystem that cannot read links: os.Root alone refuses.
		"os.Root, Open only": func(t *testing.T, dir string) fs.FS {
			root, err := os.OpenRoot(dir)
			require.NoError(t, err)
			t.Cleanup(func() { root.Close() })
			return openOnly{root.FS()}
		},
	}
	for fsName, open := range fsFor {
		t.Run(fsName, func(t *testing.T) {
			t.Run("inside the repository: followed", func(t *testing.T) {
				repo := diskRepo(t)
				require.NoError(t, os.Symlink("../../../../shared/storage.yaml", filepath.Join(repo, regionDir, "storage.yaml")))
				m, err := renderEUWest(t, open(t, repo), DefaultOptions())
				require.NoError(t, err)
				assert.Contains(t, string(m.YAML()), "storageClassName: shared-class")
			})
			for name, target := range map[string]func(repo string) string{
				"absolute, out of the repository": func(string) string { return "/etc/passwd" },
				"relative, out of the repository": func(string) string { return "../../../../../outside.yaml" },
				"absolute, into the repository": func(repo string) string {
					return filepath.Join(repo, "shared", "storage.yaml")
				},
			} {
				t.Run(name+": refused", func(t *testing.T) {
					repo := diskRepo(t)
					require.NoError(t, os.Symlink(target(repo), filepath.Join(repo, regionDir, "storage.yaml")))
					_, err := renderEUWest(t, open(t, repo), DefaultOptions())
					requireFileError(t, err, ErrUnsafeFile, regionDir+"/storage.yaml", "")
				})
			}
			t.Run("to a directory: refused", func(t *testing.T) {
				repo := diskRepo(t)
				require.NoError(t, os.Symlink("../../../../shared", filepath.Join(repo, regionDir, "shared")))
				_, err := renderEUWest(t, open(t, repo), DefaultOptions())
				requireFileError(t, err, ErrUnsafeFile, regionDir+"/shared", "")
			})
		})
	}
}

// openOnly hides every interface of a filesystem but fs.FS.
type openOnly struct{ fsys fs.FS }

func (o openOnly) Open(name string) (fs.File, error) { return o.fsys.Open(name) }
