package main

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ringops/ringops/render"
)

func newRenderCommand() *cobra.Command {
	var contexts []string
	var output string
	cmd := &cobra.Command{
		Use:   "render <cluster-dir> [--context C]... [-o yaml|json]",
		Short: "Print the Kubernetes objects a cluster renders to, per kube context",
		Long: `Render prints exactly the objects that ringops would apply for a cluster, per
kube context (region): the generated StatefulSets, headless Service,
PodDisruptionBudgets and ConfigMap, after the region's kustomize Component.
It needs no cluster and no network.

Without --context every context of the cluster is rendered, seed region first;
in YAML each context starts with a "# context: <name>" comment, in JSON the
output is an object keyed by context whose values are v1 Lists.`,
		Example: `  ringops render clusters/orders --context eu-west
  ringops render clusters/orders -o json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "yaml" && output != "json" {
				return &usageError{fmt.Errorf("--output %q: must be yaml or json", output)}
			}
			cd, err := loadClusterDir(args[0])
			if err != nil {
				return invalid(err)
			}
			if len(contexts) == 0 {
				contexts = cd.Cluster.Contexts()
			}
			r := render.New(render.DefaultOptions())
			var all []*render.Manifests
			for _, kc := range contexts {
				m, err := r.Render(cmd.Context(), cd.FS, ".", cd.Cluster, kc)
				if err != nil {
					return invalid(err)
				}
				all = append(all, m)
			}
			out, err := formatManifests(all, output, len(all) == 1 && cmd.Flags().Changed("context"))
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().StringSliceVar(&contexts, "context", nil, "kube context (region) to render; repeatable; default: every context of the cluster")
	cmd.Flags().StringVarP(&output, "output", "o", "yaml", "output format: yaml or json")
	return cmd
}

// formatManifests prints rendered contexts. single means the user asked for
// one context: its objects are printed bare, with no context header.
func formatManifests(all []*render.Manifests, output string, single bool) ([]byte, error) {
	if output == "json" {
		if single {
			return all[0].JSON(), nil
		}
		obj := map[string]json.RawMessage{}
		for _, m := range all {
			obj[m.Context] = m.JSON()
		}
		b, err := json.MarshalIndent(obj, "", "  ")
		return append(b, '\n'), err
	}
	if single {
		return all[0].YAML(), nil
	}
	var buf bytes.Buffer
	for i, m := range all {
		if i > 0 {
			buf.WriteString("---\n")
		}
		fmt.Fprintf(&buf, "# context: %s (cluster %s)\n", m.Context, m.Cluster)
		buf.Write(m.YAML())
	}
	return buf.Bytes(), nil
}

// invalid marks an error as invalid input: exit code ExitInvalid.
func invalid(err error) error { return &exitError{code: ExitInvalid, err: err} }

// exactArgs is cobra.ExactArgs with a usage exit code.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return &usageError{fmt.Errorf("%w\nusage: %s", err, cmd.UseLine())}
		}
		return nil
	}
}
