package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"

	"gopkg.in/yaml.v3"
	"sigs.k8s.io/kustomize/api/types"
)

// maxExpansionDepth is how deep a Component's YAML may nest once its
// aliases are followed (yaml.v3 itself stops at 10,000 without them).
const maxExpansionDepth = 1000

// MaxMappingKeys is the most keys one YAML mapping of a Component may
// have: kustomize's time grows with the square of a mapping's size (two
// ConfigMaps of 10,000 keys cost 3 s of CPU; of 50,000, over 30 s).
const MaxMappingKeys = 2000

// yamlBudget counts the YAML nodes of a Component as kustomize would see
// them, aliases expanded, against Options.MaxYAMLNodes: a few hundred
// bytes of anchors and aliases expand to gigabytes (issue 21: a 346-byte
// resource file reached 2.4 GB inside kustomize).
type yamlBudget struct {
	max, left int
}

// checkYAML parses every file of the Component, and every YAML string its
// kustomizations hold inline (patches), and counts their nodes with
// aliases expanded. A file that is not YAML (a configMapGenerator's
// properties file) is not kustomize's to parse either, and is left alone.
func (c *component) checkYAML(maxNodes int) error {
	b := &yamlBudget{max: maxNodes, left: maxNodes}
	rels := make([]string, 0, len(c.files))
	for rel := range c.files {
		rels = append(rels, rel)
	}
	slices.Sort(rels)
	for _, rel := range rels {
		if err := b.document(c.files[rel]); err != nil {
			return fileErr(path.Join(c.dir, rel), "", err)
		}
	}
	for _, rel := range rels {
		if !slices.Contains(kustomizationNames, path.Base(rel)) {
			continue
		}
		k, err := parseKustomization(path.Join(c.dir, rel), c.files[rel])
		if err != nil {
			return err
		}
		for _, in := range inlineYAML(k) {
			if err := b.document([]byte(in.value)); err != nil {
				return fileErr(path.Join(c.dir, rel), in.field, err)
			}
		}
	}
	return nil
}

// inlineYAML lists the YAML a kustomization holds in strings: inline
// patches and inline generator, transformer and validator configs.
func inlineYAML(k *types.Kustomization) []ref {
	var out []ref
	for i, p := range k.Patches {
		out = append(out, ref{field: "patches[" + strconv.Itoa(i) + "].patch", value: p.Patch})
	}
	//lint:ignore SA1019 deprecated fields are still applied by kustomize: check them
	for i, p := range k.PatchesJson6902 {
		out = append(out, ref{field: "patchesJson6902[" + strconv.Itoa(i) + "].patch", value: p.Patch})
	}
	for _, r := range references(k) {
		if inline(r.value) {
			out = append(out, r)
		}
	}
	return out
}

// document counts the nodes of every YAML document in data. Data that is
// not YAML costs nothing.
func (b *yamlBudget) document(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return nil // not YAML: kustomize refuses it, or reads it as data
		}
		if err := b.walk(&doc, 0); err != nil {
			return err
		}
	}
}

// walk counts n and what it holds, following aliases, until the budget is
// spent.
func (b *yamlBudget) walk(n *yaml.Node, depth int) error {
	if b.left--; b.left < 0 {
		return fmt.Errorf("%w: more than %d YAML nodes once anchors (&) and aliases (*) are expanded; a region's Component needs far fewer", ErrTooLarge, b.max)
	}
	if depth > maxExpansionDepth {
		return fmt.Errorf("%w: YAML nested deeper than %d levels once aliases are expanded", ErrTooLarge, maxExpansionDepth)
	}
	if n.Kind == yaml.MappingNode && len(n.Content)/2 > MaxMappingKeys {
		return fmt.Errorf("%w: line %d: a mapping of %d keys, over the limit of %d", ErrTooLarge, n.Line, len(n.Content)/2, MaxMappingKeys)
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return b.walk(n.Alias, depth+1)
	}
	for _, ch := range n.Content {
		if err := b.walk(ch, depth+1); err != nil {
			return err
		}
	}
	return nil
}
