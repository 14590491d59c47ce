package render

import (
	"bytes"
	"fmt"
	"path"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/yaml"
)

// ref is one path a kustomization refers to, with the field holding it.
type ref struct {
	field string
	value string
	// config: the value names a generator/transformer/validator config
	// (or holds one inline), whose own paths are checked too.
	config bool
}

// parseKustomization reads a kustomization file of the component.
func parseKustomization(file string, data []byte) (*types.Kustomization, error) {
	k := &types.Kustomization{}
	if err := yaml.Unmarshal(data, k); err != nil {
		return nil, fileErr(file, "", fmt.Errorf("invalid YAML: %w", err))
	}
	return k, nil
}

// checkKind refuses a top-level region kustomization that is not a Component.
func checkKind(file string, k *types.Kustomization) error {
	if k.Kind != types.ComponentKind {
		kind := k.Kind
		if kind == "" {
			kind = types.KustomizationKind + " (no kind)"
		}
		return fileErr(file, "kind", fmt.Errorf("%w: got %s; a region is a kind: Component (apiVersion: %s)",
			ErrNotComponent, kind, types.ComponentVersion))
	}
	return nil
}

// checkKustomization checks the references of the kustomization k at rel
// (slash path relative to the component directory dir).
func checkKustomization(dir, rel string, k *types.Kustomization, files map[string][]byte) error {
	file := path.Join(dir, rel)
	if err := checkUnsupported(k); err != nil {
		return fileErr(file, "", err)
	}
	base := path.Dir(rel)
	for _, r := range references(k) {
		if err := checkRef(base, r.value); err != nil {
			return fileErr(file, r.field, err)
		}
		if r.config {
			if err := checkConfig(base, r, files); err != nil {
				return fileErr(file, r.field, err)
			}
		}
	}
	return nil
}

func checkUnsupported(k *types.Kustomization) error {
	switch {
	case len(k.HelmCharts) > 0:
		return fmt.Errorf("helmCharts: Helm is %w", ErrUnsupported)
	case k.HelmGlobals != nil:
		return fmt.Errorf("helmGlobals: Helm is %w", ErrUnsupported)
	case len(k.HelmChartInflationGenerator) > 0:
		return fmt.Errorf("helmChartInflationGenerator: Helm is %w", ErrUnsupported)
	}
	return nil
}

// references lists every path-valued field of a kustomization.
func references(k *types.Kustomization) []ref {
	var out []ref
	list := func(field string, values []string, config bool) {
		for i, v := range values {
			out = append(out, ref{field: field + "[" + strconv.Itoa(i) + "]", value: v, config: config})
		}
	}
	list("resources", k.Resources, false)
	list("components", k.Components, false)
	//lint:ignore SA1019 deprecated fields are still loaded by kustomize: check them
	list("bases", k.Bases, false)
	list("crds", k.Crds, false)
	list("configurations", k.Configurations, false)
	list("generators", k.Generators, true)
	list("transformers", k.Transformers, true)
	list("validators", k.Validators, true)
	if p := k.OpenAPI["path"]; p != "" {
		out = append(out, ref{field: "openapi.path", value: p})
	}
	//lint:ignore SA1019 deprecated fields are still loaded by kustomize: check them
	for i, p := range k.PatchesStrategicMerge {
		out = append(out, ref{field: "patchesStrategicMerge[" + strconv.Itoa(i) + "]", value: string(p)})
	}
	for i, p := range k.Patches {
		out = append(out, ref{field: "patches[" + strconv.Itoa(i) + "].path", value: p.Path})
	}
	//lint:ignore SA1019 deprecated fields are still loaded by kustomize: check them
	for i, p := range k.PatchesJson6902 {
		out = append(out, ref{field: "patchesJson6902[" + strconv.Itoa(i) + "].path", value: p.Path})
	}
	for i, r := range k.Replacements {
		out = append(out, ref{field: "replacements[" + strconv.Itoa(i) + "].path", value: r.Path})
	}
	for i, g := range k.ConfigMapGenerator {
		out = append(out, generatorRefs("configMapGenerator["+strconv.Itoa(i)+"]", g.KvPairSources)...)
	}
	for i, g := range k.SecretGenerator {
		out = append(out, generatorRefs("secretGenerator["+strconv.Itoa(i)+"]", g.KvPairSources)...)
	}
	return out
}

func generatorRefs(field string, kv types.KvPairSources) []ref {
	var out []ref
	for i, f := range kv.FileSources {
		if _, file, ok := strings.Cut(f, "="); ok {
			f = file // key=path
		}
		out = append(out, ref{field: field + ".files[" + strconv.Itoa(i) + "]", value: f})
	}
	for i, f := range kv.EnvSources {
		out = append(out, ref{field: field + ".envs[" + strconv.Itoa(i) + "]", value: f})
	}
	if kv.EnvSource != "" {
		out = append(out, ref{field: field + ".env", value: kv.EnvSource})
	}
	return out
}

// inline tells whether a reference field holds YAML rather than a path.
func inline(v string) bool { return strings.Contains(v, "\n") }

// checkRef refuses a remote reference, an absolute path, and a path that
// leaves the component directory. base is the referring kustomization's
// directory, relative to the component's.
func checkRef(base, v string) error {
	if v == "" || inline(v) {
		return nil
	}
	if remote(v) {
		return fmt.Errorf("%q: %w (copy the files into the component)", v, ErrRemoteReference)
	}
	if path.IsAbs(v) || strings.HasPrefix(v, `\`) {
		return fmt.Errorf("%q: %w (absolute path)", v, ErrEscapesComponent)
	}
	if p := path.Join(base, v); p == ".." || strings.HasPrefix(p, "../") {
		return fmt.Errorf("%q: %w", v, ErrEscapesComponent)
	}
	return nil
}

// remote tells whether kustomize would fetch v over the network: a URL, a
// git URL (scp-style user@host:, git::, github.com/...), or a git ref query.
func remote(v string) bool {
	l := strings.ToLower(v)
	if strings.Contains(l, "://") || strings.HasPrefix(l, "git::") ||
		strings.HasPrefix(l, "github.com/") || strings.HasPrefix(l, "github.com:") ||
		strings.Contains(l, "?ref=") || strings.Contains(l, "?version=") {
		return true
	}
	first, _, _ := strings.Cut(l, "/")
	return strings.Contains(first, "@")
}

// checkConfig checks the paths inside a generator/transformer/validator
// config (a file of the component, or inline YAML): `path`, `paths` and
// `replacements[].path` are loaded by kustomize too.
func checkConfig(base string, r ref, files map[string][]byte) error {
	data := []byte(r.value)
	if !inline(r.value) {
		var ok bool
		if data, ok = files[path.Join(base, r.value)]; !ok {
			return nil // a directory (checked as a kustomization) or missing (kustomize says so)
		}
	}
	for doc := range bytes.SplitSeq(data, []byte("\n---")) {
		var cfg struct {
			Kind         string   `json:"kind"`
			Path         string   `json:"path"`
			Paths        []string `json:"paths"`
			Replacements []struct {
				Path string `json:"path"`
			} `json:"replacements"`
		}
		if err := yaml.Unmarshal(doc, &cfg); err != nil {
			continue // not ours to judge: kustomize reports it
		}
		if cfg.Kind == "HelmChartInflationGenerator" {
			return fmt.Errorf("HelmChartInflationGenerator: Helm is %w", ErrUnsupported)
		}
		paths := append([]string{cfg.Path}, cfg.Paths...)
		for _, rp := range cfg.Replacements {
			paths = append(paths, rp.Path)
		}
		for _, p := range paths {
			if err := checkRef(base, p); err != nil {
				if inline(r.value) {
					return fmt.Errorf("inline config: %w", err)
				}
				return fmt.Errorf("%s: %w", r.value, err)
			}
		}
	}
	return nil
}

// checkTargets refuses a patch of the top kustomization whose target
// selects no object of the build: kustomize silently skips it, and a region
// would quietly lose, say, its storage class.
func checkTargets(file string, k *types.Kustomization, m resmap.ResMap) error {
	check := func(field string, t *types.Selector) error {
		if t == nil {
			return nil
		}
		sel, err := m.Select(*t)
		if err != nil {
			return fileErr(file, field+".target", err)
		}
		if len(sel) == 0 {
			return fileErr(file, field+".target", fmt.Errorf("%w: selects no object (%s)", ErrNoTarget, describeSelector(t)))
		}
		return nil
	}
	for i, p := range k.Patches {
		if err := check("patches["+strconv.Itoa(i)+"]", p.Target); err != nil {
			return err
		}
	}
	//lint:ignore SA1019 deprecated fields are still applied by kustomize: check them
	for i, p := range k.PatchesJson6902 {
		if err := check("patchesJson6902["+strconv.Itoa(i)+"]", p.Target); err != nil {
			return err
		}
	}
	return nil
}

func describeSelector(t *types.Selector) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	add("group", t.Group)
	add("version", t.Version)
	add("kind", t.Kind)
	add("namespace", t.Namespace)
	add("name", t.Name)
	add("labelSelector", t.LabelSelector)
	add("annotationSelector", t.AnnotationSelector)
	return strings.Join(parts, ", ")
}
