package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"

	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ringops/ringops/importer/casskop"
)

// importFlags are the flags of `ringops import`.
type importFlags struct {
	files       []string
	out         string
	context     string
	fromCluster bool
	kubeconfig  string
	namespace   string
}

func newImportCommand() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import (-f FILE|DIR|- [-f ...] | --from-cluster [--context C] [-n NS]) -o DIR",
		Short: "Write a ringops repository from CassKop / MultiCassKop manifests",
		Long: `Import reads CassKop CassandraCluster (db.orange.com/v2 and v1alpha1) and
MultiCassKop MultiCasskop manifests, with the ConfigMaps they reference
(spec.configMapName), and writes into DIR a ringops repository:
clusters/<name>/cluster.yaml, a kustomize Component per region
(clusters/<name>/regions/<context>/kustomization.yaml) for what is regional
(MultiCasskop overrides, storage classes, annotations, node affinity,
tolerations, the user the nodes run as), and clusters/<name>/IMPORT.md, the
report of every field not carried or carried differently, each with what to
do. The report is also printed on stderr.

A MultiCasskop's override keys become the kube contexts, in the order they
are written: the first is ringops' seed region. A CassandraCluster alone
goes into --context.

--from-cluster reads them through the kubeconfig instead: the
CassandraClusters and MultiCasskops of --context (default: the current
context; -n to read one namespace), then in every context a MultiCasskop's
override names, its CassandraClusters; and the ConfigMaps they reference.

What is written is checked as ringops validate and ringops render check it
before anything is written. An existing clusters/<name> is never overwritten.

Exit status: 0 everything carried, 1 carried with warnings (read IMPORT.md),
2 refused (bad input, or DIR already holds the cluster): nothing written.`,
		Example: `  ringops import -f casskop/ -o repo
  kubectl get cassandraclusters,configmaps -o yaml | ringops import -f - -o repo --context eu-west
  ringops import --from-cluster --context eu-west -n cassandra -o repo`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (len(f.files) == 0) == !f.fromCluster || f.out == "" {
				return &usageError{fmt.Errorf("import needs -o, and -f or --from-cluster (not both)\nusage: %s", cmd.UseLine())}
			}
			var inputs []casskop.Input
			var err error
			if f.fromCluster {
				if !cmd.Flags().Changed("context") {
					f.context = ""
				}
				inputs, f.context, err = readFromCluster(cmd.Context(), f)
			} else {
				inputs, err = readImportInputs(f.files, cmd.InOrStdin())
			}
			if err != nil {
				return err
			}
			return runImport(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), inputs, f)
		},
	}
	fl := cmd.Flags()
	fl.StringArrayVarP(&f.files, "filename", "f", nil, "a manifest file, a directory of them (*.yaml, *.yml, *.json, recursively), or - for stdin; repeatable")
	fl.StringVarP(&f.out, "output", "o", "", "directory to write the repository into (created if missing)")
	fl.StringVar(&f.context, "context", "default", "kube context of a CassandraCluster no MultiCasskop places; with --from-cluster, the context read (default: the current context)")
	fl.BoolVar(&f.fromCluster, "from-cluster", false, "read CassKop's objects through the kubeconfig instead of files")
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "with --from-cluster: the namespace to read (default: every namespace)")
	return cmd
}

// readImportInputs reads the files, directories and stdin named by -f.
func readImportInputs(names []string, stdin io.Reader) ([]casskop.Input, error) {
	inputs, err := readImportFiles(names, stdin)
	if err != nil {
		return nil, invalid(err)
	}
	return inputs, nil
}

func readImportFiles(names []string, stdin io.Reader) ([]casskop.Input, error) {
	var out []casskop.Input
	for _, n := range names {
		if n == "-" {
			b, err := io.ReadAll(io.LimitReader(stdin, casskop.MaxInputSize+1))
			if err != nil {
				return nil, fmt.Errorf("-: %w", err)
			}
			out = append(out, casskop.Input{Name: "-", Data: b})
			continue
		}
		st, err := os.Stat(n)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			b, err := readCapped(n)
			if err != nil {
				return nil, err
			}
			out = append(out, casskop.Input{Name: n, Data: b})
			continue
		}
		var files []string
		err = filepath.WalkDir(n, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch strings.ToLower(filepath.Ext(p)) {
			case ".yaml", ".yml", ".json":
				if d.Type().IsRegular() {
					files = append(files, p)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, fmt.Errorf("%s: no .yaml, .yml or .json file in it", n)
		}
		for _, p := range files {
			b, err := readCapped(p)
			if err != nil {
				return nil, err
			}
			out = append(out, casskop.Input{Name: p, Data: b})
		}
	}
	return out, nil
}

func readCapped(p string) ([]byte, error) {
	fh, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, casskop.MaxInputSize+1))
}

func runImport(ctx context.Context, stdout, stderr io.Writer, inputs []casskop.Input, f importFlags) error {
	opts := casskop.DefaultOptions()
	opts.Context = f.context
	res, err := casskop.Import(inputs, opts)
	var refused *casskop.RefusedError
	if errors.As(err, &refused) {
		for _, r := range refused.Refusals {
			fmt.Fprintln(stderr, r)
		}
		return &exitError{code: ExitInvalid, err: fmt.Errorf("import refused (%d problems): nothing written", len(refused.Refusals))}
	}
	if err != nil {
		return err
	}
	if err := casskop.Verify(ctx, res.Files); err != nil {
		return &exitError{code: ExitInvalid, err: fmt.Errorf("import: the repository it would write does not validate, nothing written:\n%w", err)}
	}
	for _, name := range res.Clusters {
		dir := filepath.Join(f.out, "clusters", name)
		if _, err := os.Lstat(dir); err == nil {
			return &exitError{code: ExitInvalid, err: fmt.Errorf("%s: already exists; import into an empty directory, or move it away: nothing written", dir)}
		}
	}
	if err := writeImported(f.out, res.Files); err != nil {
		return err
	}
	for _, fd := range res.Findings {
		fmt.Fprintln(stderr, fd)
	}
	for _, name := range res.Clusters {
		fmt.Fprintf(stdout, "imported %s into %s (report: %s)\n", name, filepath.Join(f.out, "clusters", name),
			filepath.Join(f.out, "clusters", name, "IMPORT.md"))
	}
	if n := res.Warnings(); n > 0 {
		return &exitError{code: ExitChanges, err: fmt.Errorf("import: %d warnings: read IMPORT.md", n)}
	}
	return nil
}

// writeImported writes files below dir.
func writeImported(dir string, files map[string][]byte) error {
	for _, p := range slices.Sorted(maps.Keys(files)) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return err
		}
	}
	return nil
}
