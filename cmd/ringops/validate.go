package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/schemas"
)

func newValidateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "validate <path>...",
		Short: "Check cluster specs and their region Components",
		Long: `Validate checks every cluster found under the given paths (a cluster
directory, its cluster.yaml, or any directory above, such as the repository
root): the spec against the schema and the rules ringops enforces, then a
render of every region, so that a broken kustomize Component is caught too.

Every error is listed as file:line: field: what is wrong and how to fix it.
Exit code 0 when everything is valid, 2 when anything is not.`,
		Example: `  ringops validate clusters/orders
  ringops validate .`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return &usageError{fmt.Errorf("validate needs at least one path\nusage: %s", cmd.UseLine())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dirs, err := findClusterDirs(args)
			if err != nil {
				return invalid(err)
			}
			r := render.New(render.DefaultOptions())
			loaded, bad := loadClusterDirs(cmd, dirs)
			for _, cd := range loaded {
				if !validateDir(cmd, r, cd) {
					bad++
				}
			}
			if bad > 0 {
				return &exitError{code: ExitInvalid, err: fmt.Errorf("%d of %d clusters invalid", bad, len(dirs))}
			}
			return nil
		},
	}
}

// loadClusterDirs loads every cluster directory, printing the errors on
// stderr, and refuses the directories that declare the same ring
// (schemas.Duplicates). It returns the valid ones and the count of the
// others.
func loadClusterDirs(cmd *cobra.Command, dirs []string) (valid []*clusterDir, bad int) {
	var loaded []*clusterDir
	var specs []*schemas.CassandraCluster
	for _, d := range dirs {
		cd, err := loadClusterDir(d)
		if err != nil {
			printErrors(cmd.ErrOrStderr(), err)
			bad++
			continue
		}
		loaded = append(loaded, cd)
		specs = append(specs, cd.Cluster)
	}
	dups := schemas.Duplicates(specs)
	printErrors(cmd.ErrOrStderr(), dups.Err())
	for _, cd := range loaded {
		if slices.ContainsFunc(dups, func(fe *schemas.FieldError) bool { return fe.File == cd.Cluster.File() }) {
			bad++
			continue
		}
		valid = append(valid, cd)
	}
	return valid, bad
}

// validateDir validates one loaded cluster directory, printing the
// verdict on stdout and the errors on stderr. It reports whether the
// cluster is valid.
func validateDir(cmd *cobra.Command, r *render.Renderer, cd *clusterDir) bool {
	ok := true
	for _, kc := range cd.Cluster.Contexts() {
		if _, err := r.Render(cmd.Context(), cd.FS, ".", cd.Cluster, kc); err != nil {
			fmt.Fprintln(cmd.ErrOrStderr(), err)
			ok = false
		}
	}
	if ok {
		fmt.Fprintf(cmd.OutOrStdout(), "valid: %s (%s)\n", cd.Path, summary(cd.Cluster))
	}
	return ok
}

// printErrors prints every field error on its own line (nothing for nil).
func printErrors(w io.Writer, err error) {
	if err == nil {
		return
	}
	var list schemas.ErrorList
	if errors.As(err, &list) {
		for _, fe := range list {
			fmt.Fprintln(w, fe.Error())
		}
		return
	}
	fmt.Fprintln(w, err)
}

// summary describes a cluster in one line: its datacenters, regions and size.
func summary(c *schemas.CassandraCluster) string {
	var parts []string
	var total int32
	for _, dc := range c.Spec.Datacenters {
		n := dc.DatacenterNodes()
		total += n
		parts = append(parts, fmt.Sprintf("%s in %s: %d racks, %d nodes", dc.Name, dc.Context, len(dc.Racks), n))
	}
	return fmt.Sprintf("cluster %s, %d nodes; %s", c.Metadata.Name, total, strings.Join(parts, "; "))
}
