package casskop

import (
	"encoding/json"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ringops/ringops/schemas"
)

// clusterYAML writes cluster.yaml: the spec in its fields' order (JSON
// keeps the struct's), in block style, with a comment naming the source
// of each field that has one.
func clusterYAML(spec *schemas.CassandraCluster, comments map[string]string, r ring) ([]byte, error) {
	j, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(j, &doc); err != nil {
		return nil, err
	}
	root := docRoot(&doc)
	block(root)
	annotate(root, "", comments)
	header := fmt.Sprintf("Written by ringops import from %s (%s).\n"+
		"Read IMPORT.md beside this file: what was not carried, and what to do.", r.file, r.object)
	if len(root.Content) > 0 {
		root.Content[0].HeadComment = header
	}
	return encode(root)
}

// block turns JSON's flow style into block style and drops needless
// quotes.
func block(n *yaml.Node) {
	n.Style = 0
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" && needsQuotes(n.Value) {
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		block(c)
	}
}

// needsQuotes: a string YAML would read as something else.
func needsQuotes(s string) bool {
	var v any
	if err := yaml.Unmarshal([]byte(s), &v); err != nil {
		return true
	}
	str, ok := v.(string)
	return !ok || str != s
}

// annotate puts comments[path] on the key (or list item) of path.
func annotate(n *yaml.Node, path string, comments map[string]string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			p := n.Content[i].Value
			if path != "" {
				p = path + "." + p
			}
			if c, ok := comments[p]; ok && c != "" {
				n.Content[i].HeadComment = c
			}
			annotate(n.Content[i+1], p, comments)
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if c, ok := comments[p]; ok && c != "" {
				item.HeadComment = strings.TrimSpace(c)
			}
			annotate(item, p, comments)
		}
	}
}
