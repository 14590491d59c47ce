package casskop

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/ringops/ringops/internal/jsontree"
)

// Options are Import's settings.
type Options struct {
	// Context is the kube context of a CassandraCluster that no
	// MultiCasskop places (and whose input names none). Default: default.
	Context string
}

// DefaultOptions are Import's defaults.
func DefaultOptions() Options { return Options{Context: "default"} }

// Result is what an import produces.
type Result struct {
	// Files are the repository's files, by slash path below the output
	// directory: clusters/<name>/cluster.yaml,
	// clusters/<name>/regions/<context>/kustomization.yaml,
	// clusters/<name>/IMPORT.md.
	Files map[string][]byte
	// Clusters are the names of the clusters written, sorted.
	Clusters []string
	// Findings are the report's lines, warnings first.
	Findings []Finding
}

// Warnings counts the findings the user has to look at.
func (r *Result) Warnings() int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == Warning {
			n++
		}
	}
	return n
}

// ring is one Cassandra cluster to import: one region per kube context.
type ring struct {
	file      string // of the CassandraCluster or MultiCasskop
	object    string // "CassandraCluster <name>" or "MultiCasskop <name>"
	namespace string // of the MultiCasskop, when its base names none
	version   string
	base      map[string]any // a MultiCasskop's spec.base, nil for a CassandraCluster
	regions   []region
}

// region is the effective CassandraCluster of one kube context.
type region struct {
	context string
	field   string         // where it comes from in the manifest, "" or "spec.override.<context>"
	raw     map[string]any // the effective CassandraCluster
	own     map[string]any // what the manifest says of this region: the override, or the CassandraCluster
	cc      *cassandraCluster
}

// Import converts the CassKop manifests of inputs into a ringops
// repository. It returns a *RefusedError when any input cannot be
// imported, and then nothing else.
func Import(inputs []Input, opts Options) (*Result, error) {
	if opts.Context == "" {
		opts.Context = DefaultOptions().Context
	}
	docs, refused := decodeInputs(inputs)
	rings, configMaps, others, more := classify(docs, opts)
	refused = append(refused, more...)
	if len(rings) == 0 && len(refused) == 0 {
		refused = append(refused, Refusal{File: inputNames(inputs), Problem: "no CassandraCluster nor MultiCasskop (db.orange.com) in the input",
			Fix: "give the manifests of your CassKop clusters (kubectl get cassandraclusters,multicasskops -A -o yaml), or use --from-cluster"})
	}
	res := &Result{Files: map[string][]byte{}}
	seen := map[string]string{}
	for _, r := range rings {
		if len(r.regions) == 0 {
			continue
		}
		out, rf := convert(r, configMaps)
		refused = append(refused, rf...)
		if out == nil {
			continue
		}
		if prev, ok := seen[out.name]; ok {
			refused = append(refused, Refusal{File: r.file, Field: "metadata.name", Problem: fmt.Sprintf("%q is also the name of the cluster of %s: ringops keeps one directory per cluster name", out.name, prev),
				Fix: "import them one at a time into different repositories, or leave one out"})
			continue
		}
		seen[out.name] = r.file
		fs := append(out.findings, othersOf(others, r.file)...)
		dir := path.Join("clusters", out.name)
		maps.Copy(res.Files, out.files)
		res.Files[path.Join(dir, "IMPORT.md")] = reportMarkdown(out.name, out.sources, fs)
		res.Clusters = append(res.Clusters, out.name)
		res.Findings = append(res.Findings, fs...)
	}
	if len(refused) > 0 {
		return nil, &RefusedError{Refusals: refused}
	}
	slices.Sort(res.Clusters)
	res.Findings = sortFindings(res.Findings)
	return res, nil
}

func inputNames(inputs []Input) string {
	var names []string
	for _, in := range inputs {
		names = append(names, in.Name)
	}
	if len(names) == 0 {
		return "(no input)"
	}
	return strings.Join(names, ", ")
}

func othersOf(others []Finding, file string) []Finding {
	var out []Finding
	for _, f := range others {
		if f.File == file || f.attach == file || f.attach == "*" {
			out = append(out, f)
		}
	}
	return out
}

type configMapKey struct{ namespace, name string }

// classify sorts the objects: rings (one per MultiCasskop, one per
// CassandraCluster no MultiCasskop covers), ConfigMaps by namespace and
// name, and findings about the other objects.
func classify(docs []doc, opts Options) ([]ring, map[configMapKey]map[string]string, []Finding, []Refusal) {
	var rings []ring
	var refused []Refusal
	var others []Finding
	cms := map[configMapKey]map[string]string{}
	var ccs []doc
	for _, d := range docs {
		kind, api := d.str("kind"), d.str("apiVersion")
		name := d.str("metadata", "name")
		switch {
		case kind == "ConfigMap" && api == "v1":
			data := map[string]string{}
			if m, ok := d.raw["data"].(map[string]any); ok {
				for k, v := range m {
					data[k] = fmt.Sprint(v)
				}
			}
			cms[configMapKey{d.str("metadata", "namespace"), name}] = data
		case kind == kindCassandraCluster || kind == kindMultiCasskop:
			if api != groupV2 && api != groupV1alpha1 {
				refused = append(refused, Refusal{File: d.file, Field: "apiVersion", Problem: fmt.Sprintf("%q is not CassKop's (%s %s)", api, kind, name),
					Fix: "CassKop's objects are db.orange.com/v2 or db.orange.com/v1alpha1"})
				continue
			}
			if name == "" {
				refused = append(refused, Refusal{File: d.file, Field: "metadata.name", Problem: "missing", Fix: "give the " + kind + " its name"})
				continue
			}
			if kind == kindCassandraCluster {
				ccs = append(ccs, d)
				continue
			}
			r, rf := multiRing(d)
			refused = append(refused, rf...)
			if rf == nil {
				rings = append(rings, r)
			}
		case strings.HasPrefix(api, "db.orange.com/"):
			others = append(others, Finding{Severity: Warning, File: d.file, Object: kind + " " + name, Field: "(object)",
				What:   "not imported: ringops takes no backups nor restores",
				Action: "keep your backups running with the tool that takes them (Icarus, Medusa, snapshots); see README \"Coming from CassKop\""})
		case kind == "Deployment" && operatorImage(d) != "":
			others = append(others, operatorFinding(d))
		case kind == "Secret":
			others = append(others, Finding{Severity: Note, File: d.file, Object: "Secret " + name, Field: "(object)",
				What: "not imported (Secrets stay in the clusters; their content is not read)"})
		default:
			others = append(others, Finding{Severity: Note, File: d.file, Object: strings.TrimSpace(kind + " " + name), Field: "(object)",
				What: "not a CassKop object: not imported"})
		}
	}
	for _, d := range ccs {
		if by := coveredBy(rings, d); by != nil {
			others = append(others, Finding{Severity: Note, File: d.file, Object: kindCassandraCluster + " " + d.str("metadata", "name"), Field: "(object)",
				What: "made by " + by.object + " of the input: imported through it", attach: by.file})
			continue
		}
		kctx := d.context
		if kctx == "" {
			kctx = opts.Context
		}
		rings = append(rings, ring{
			file: d.file, object: kindCassandraCluster + " " + d.str("metadata", "name"), version: d.str("apiVersion"),
			regions: []region{{context: kctx, raw: d.raw, own: d.raw}},
		})
	}
	return rings, cms, others, refused
}

// coveredBy returns the MultiCasskop of rings that makes the
// CassandraCluster d (same name and namespace as its base), nil if none.
func coveredBy(rings []ring, d doc) *ring {
	for i, r := range rings {
		if !strings.HasPrefix(r.object, kindMultiCasskop) {
			continue
		}
		base := r.regions[0].raw
		ns, _ := dig(base, "metadata", "namespace").(string)
		if ns == "" {
			ns = r.namespace
		}
		dns := d.str("metadata", "namespace")
		if dig(base, "metadata", "name") == d.str("metadata", "name") && (dns == "" || ns == "" || dns == ns) {
			return &rings[i]
		}
	}
	return nil
}

// multiRing reads a MultiCasskop: its base merged with each override, in
// the order the overrides are written (Multi-CassKop goes through its
// clusters local first: write the seed region first).
func multiRing(d doc) (ring, []Refusal) {
	name := d.str("metadata", "name")
	r := ring{file: d.file, object: kindMultiCasskop + " " + name, namespace: d.str("metadata", "namespace")}
	base, ok := dig(d.raw, "spec", "base").(map[string]any)
	if !ok {
		return r, []Refusal{{File: d.file, Field: "spec.base", Problem: "missing or not a mapping", Fix: "a MultiCasskop's base is a whole CassandraCluster"}}
	}
	r.base = base
	r.version, _ = base["apiVersion"].(string)
	if r.version == "" {
		r.version = groupV2
	}
	if k, _ := base["kind"].(string); k != "" && k != kindCassandraCluster {
		return r, []Refusal{{File: d.file, Field: "spec.base.kind", Problem: fmt.Sprintf("%q, not CassandraCluster", k), Fix: "a MultiCasskop's base is a CassandraCluster"}}
	}
	overrides, _ := dig(d.raw, "spec", "override").(map[string]any)
	order := keysInOrder(d.node, "spec", "override")
	if len(order) != len(overrides) {
		order = slices.Sorted(maps.Keys(overrides))
	}
	if i := slices.Index(order, d.local); i > 0 {
		order = append([]string{d.local}, slices.Delete(order, i, i+1)...)
	}
	if len(order) == 0 {
		return r, []Refusal{{File: d.file, Field: "spec.override", Problem: "no kube cluster: Multi-CassKop creates a CassandraCluster only where an override names one",
			Fix: "add an override per kube cluster (its key is the kube context ringops will use)"}}
	}
	for _, kctx := range order {
		ov, ok := overrides[kctx].(map[string]any)
		if !ok && overrides[kctx] != nil {
			return r, []Refusal{{File: d.file, Field: "spec.override." + kctx, Problem: "not a mapping", Fix: "an override is a partial CassandraCluster (spec: ...)"}}
		}
		eff := jsontree.Copy(base).(map[string]any)
		merge(eff, ov)
		r.regions = append(r.regions, region{context: kctx, field: "spec.override." + kctx, raw: eff, own: ov})
	}
	return r, nil
}

// operatorImage is the CassKop or Multi-CassKop image a Deployment runs,
// "" if none.
func operatorImage(d doc) string {
	containers, _ := dig(d.raw, "spec", "template", "spec", "containers").([]any)
	for _, c := range containers {
		img, _ := dig(c.(map[string]any), "image").(string)
		if strings.Contains(strings.ToLower(img), "casskop") {
			return img
		}
	}
	return ""
}

// operatorFinding: a CassKop operator that still runs would fight ringops
// over the objects; every cluster's report names it.
func operatorFinding(d doc) Finding {
	name, ns := d.str("metadata", "name"), d.str("metadata", "namespace")
	f := Finding{File: d.file, Object: "Deployment " + ns + "/" + name, Field: "(object)", attach: "*"}
	replicas := 1
	if r, ok := dig(d.raw, "spec", "replicas").(int); ok {
		replicas = r
	}
	ctx := ""
	if d.context != "" {
		ctx = "--context " + d.context + " "
	}
	if replicas == 0 {
		f.Severity, f.What = Note, "the CassKop operator ("+operatorImage(d)+") is scaled to 0"
		return f
	}
	f.Severity = Warning
	f.What = fmt.Sprintf("the CassKop operator (%s) runs, %d replica(s): ringops must never act on a cluster it manages", operatorImage(d), replicas)
	f.Action = fmt.Sprintf("keep it running until ringops can take the cluster over in place (README \"Coming from CassKop\"); then stop it first: kubectl %s-n %s scale deployment %s --replicas=0", ctx, ns, name)
	return f
}
