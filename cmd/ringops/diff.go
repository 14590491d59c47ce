package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/contract"
	"github.com/ringops/ringops/reconciler/kube"
	"github.com/ringops/ringops/reconciler/plan"
	"github.com/ringops/ringops/render"
	"github.com/ringops/ringops/review"
)

// diffFlags are the flags of `ringops diff`.
type diffFlags struct {
	kubeconfig string
	contexts   []string
}

func newDiffCommand() *cobra.Command {
	var f diffFlags
	cmd := &cobra.Command{
		Use:   "diff <cluster-dir> [--context C]... [--kubeconfig K]",
		Short: "Show how the live objects of a cluster differ from its rendered ones",
		Long: `Diff renders a cluster and asks each region's API server, through a
server-side dry-run apply (nothing is written), what applying the rendered
objects would change: a unified diff per object, from the live object to the
object as the server would hold it (defaults filled in), then a count per
region. It needs credentials for the regions; ringops plan does not.

The diff is of the objects as rendered: while a rollout is in progress the
live StatefulSets differ by design (replicas move one node at a time, pod
template changes are staged behind a partition, ringops.dev/* annotations
record the step in flight), and CASSANDRA_SEEDS always may: ringops writes
only the seeds that had joined the ring when it last wrote the template.

Exit status: 0 no difference, 1 differences, 2 invalid spec or Component,
3 other errors (a region cannot be reached).`,
		Example: `  ringops diff clusters/orders
  ringops diff clusters/orders --context eu-west --kubeconfig ~/.kube/prod`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.Context(), cmd.OutOrStdout(), args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config)")
	fl.StringSliceVar(&f.contexts, "context", nil, "kube context (region) to compare; repeatable; default: every context of the cluster")
	return cmd
}

func runDiff(ctx context.Context, stdout io.Writer, dir string, f diffFlags) error {
	cd, err := loadClusterDir(dir)
	if err != nil {
		return invalid(err)
	}
	contexts := f.contexts
	if len(contexts) == 0 {
		contexts = cd.Cluster.Contexts()
	}
	r := render.New(render.DefaultOptions())
	var all []*render.Manifests
	for _, kc := range contexts {
		m, err := r.Render(ctx, cd.FS, ".", cd.Cluster, kc)
		if err != nil {
			return invalid(err)
		}
		all = append(all, m)
	}
	opts := kube.DefaultOptions()
	opts.Kubeconfig = f.kubeconfig
	clients, err := kube.NewClients(contexts, opts)
	if err != nil {
		return err
	}
	m, err := kube.NewManager(clients, kube.DefaultManagerOptions())
	if err != nil {
		return err
	}
	changed := false
	for _, ms := range all {
		objs, adoptions, err := adoptedObjects(ctx, m, ms.Context, ms.Objects)
		if err != nil {
			return err
		}
		results, err := m.DryRun(ctx, ms.Context, objs...)
		if err != nil {
			return err
		}
		if printDryRun(stdout, ms.Context, results, adoptions) {
			changed = true
		}
	}
	if changed {
		return &exitError{code: ExitChanges}
	}
	return nil
}

// adoption is what the apply of a StatefulSet CassKop made, or ringops
// adopted from it, does to its pods (#20).
type adoption struct {
	first   bool // CassKop's still: the apply adopts it
	pinned  bool // its pod template stays the one it runs
	pods    int  // its replicas
	comment string
}

// adoptedObjects replaces each rendered StatefulSet whose live one CassKop
// made (not labelled for ringops) or ringops adopted by what the planner
// applies over it (plan.AdoptedStatefulSet), and says what that does.
func adoptedObjects(ctx context.Context, m *kube.Manager, kc string, objs []*unstructured.Unstructured) ([]*unstructured.Unstructured, map[string]adoption, error) {
	out := make([]*unstructured.Unstructured, 0, len(objs))
	adoptions := map[string]adoption{}
	for _, u := range objs {
		if u.GetKind() != "StatefulSet" {
			out = append(out, u)
			continue
		}
		live, err := m.GetObject(ctx, kc, u.GroupVersionKind(), u.GetNamespace(), u.GetName())
		if err != nil {
			return nil, nil, err
		}
		theirs := live != nil && live.GetLabels()[contract.LabelManagedBy] != contract.ManagedBy &&
			live.GetLabels()[contract.CassKopLabelApp] == contract.CassKopApp
		if theirs && u.GetAnnotations()[contract.AnnotationAdopt] != "true" {
			adoptions[u.GetName()] = adoption{comment: "made by CassKop: ringops apply refuses it without spec.adopt: true, which takes it over in place"}
			out = append(out, u)
			continue
		}
		if live == nil || !(theirs || live.GetAnnotations()[contract.AnnotationAdopted] != "") {
			out = append(out, u)
			continue
		}
		obj, pinned := plan.AdoptedStatefulSet(u, live)
		replicas, _, _ := unstructured.NestedInt64(live.Object, "spec", "replicas")
		a := adoption{first: theirs, pinned: pinned, pods: int(replicas)}
		switch {
		case theirs:
			a.comment = fmt.Sprintf("adopted from CassKop in place: its selector, claim templates and pod template kept, ringops' labels added to the template and, in place, to its %s: 0 restarts; the pod template stays CassKop's until a change needs a restart", plural(int(replicas), "pod"))
		case pinned:
			a.comment = "adopted from CassKop: it keeps the pod template it runs, the spec changes nothing that needs a restart"
		default:
			a.comment = fmt.Sprintf("adopted from CassKop: the spec changes the pod template, its %s roll to ringops' template one at a time, gated", plural(int(replicas), "pod"))
		}
		if theirs { // the adoption's own write: no pod is to restart on it
			spec, _ := obj.Object["spec"].(map[string]any)
			spec["replicas"] = replicas
			spec["updateStrategy"] = map[string]any{"type": "RollingUpdate", "rollingUpdate": map[string]any{"partition": replicas}}
		}
		adoptions[u.GetName()] = a
		out = append(out, obj)
	}
	return out, adoptions, nil
}

// printDryRun prints the diff of every object that would change, then the
// context's counts; it reports whether anything would change.
func printDryRun(w io.Writer, kc string, results []kube.DryRunResult, adoptions map[string]adoption) bool {
	counts := map[kube.Action]int{}
	adopted, restarts := 0, 0
	for _, r := range results {
		counts[r.Action]++
		a, isAdoption := adoptions[r.Ref.Name]
		if isAdoption && r.Ref.Kind == "StatefulSet" && a.pods > 0 {
			if a.first {
				adopted++
			}
			if !a.pinned && r.Action != kube.Unchanged {
				restarts += a.pods
			}
		}
		if r.Action == kube.Unchanged {
			continue
		}
		fmt.Fprintf(w, "# %s: %s %s: %s\n", kc, r.Ref.Kind, r.Ref.Name, dryRunVerb(r))
		if isAdoption && r.Ref.Kind == "StatefulSet" {
			fmt.Fprintf(w, "# %s\n", a.comment)
		}
		if r.Note != "" {
			fmt.Fprintf(w, "# %s\n", r.Note)
		}
		id := kc + "/" + r.Ref.Kind + "/" + r.Ref.Name
		live, liveLabel := []byte(nil), "/dev/null"
		if r.Live != nil {
			live, liveLabel = objectYAML(r.Live), "live/"+id
		}
		fmt.Fprint(w, review.UnifiedDiff(live, objectYAML(r.Applied), liveLabel, "rendered/"+id, 3))
	}
	var parts []string
	for _, a := range []kube.Action{kube.Created, kube.Configured, kube.Recreated, kube.Unchanged} {
		if counts[a] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[a], strings.ToLower(dryRunVerb(kube.DryRunResult{Action: a}))))
		}
	}
	if adopted > 0 {
		parts = append(parts, fmt.Sprintf("adopts %s, %s", plural(adopted, "StatefulSet"), plural(restarts, "restart")))
	} else if restarts > 0 {
		parts = append(parts, plural(restarts, "restart")+" (adopted pod template left)")
	}
	fmt.Fprintf(w, "%s: %s\n", kc, strings.Join(parts, ", "))
	return counts[kube.Created]+counts[kube.Configured]+counts[kube.Recreated] > 0
}

// dryRunVerb says what applying would do to an object.
func dryRunVerb(r kube.DryRunResult) string {
	switch r.Action {
	case kube.Created:
		return "new"
	case kube.Configured:
		return "changed"
	case kube.Recreated:
		return "re-created (immutable fields change)"
	}
	return "unchanged"
}

func objectYAML(u *unstructured.Unstructured) []byte {
	b, err := yaml.Marshal(u.Object)
	if err != nil { // unstructured content always marshals
		return []byte(fmt.Sprintf("# %v\n", err))
	}
	return b
}

// plural is "1 pod", "2 pods", "0 restarts".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
