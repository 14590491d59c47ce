package casskop

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// component is the kustomize Component of one region.
type component struct {
	context string
	patches []patch
}

// patch is one entry of the Component's patches: an inline strategic
// merge patch or JSON patch, with a comment naming its source.
type patch struct {
	comment string
	target  target
	body    string
}

type target struct {
	kind, name, labelSelector string
}

func (c *conv) comp(kctx string) *component {
	p := c.comps[kctx]
	if p == nil {
		p = &component{context: kctx}
		c.comps[kctx] = p
	}
	return p
}

// regionals writes what is regional into each region's Component.
func (c *conv) regionals() {
	name := c.spec.Metadata.Name
	common := c.spec.Spec.Pod.Annotations
	for _, rg := range c.r.regions {
		cc, p := rg.cc, prefix(rg.field)
		comp := c.comp(rg.context)
		for i, d := range cc.Spec.Topology.DC {
			c.dcStorage(comp, rg, d, fmt.Sprintf("%sspec.topology.dc[%d]", p, i))
			for j, rk := range d.Rack {
				c.affinity(comp, name, d, rk, fmt.Sprintf("%sspec.topology.dc[%d].rack[%d]", p, i, j))
			}
		}
		sts := target{kind: "StatefulSet", labelSelector: "ringops.dev/cluster=" + name}
		if cc.Spec.Pod != nil {
			extra := map[string]string{}
			for k, v := range cc.Spec.Pod.Annotations {
				if common[k] != v {
					extra[k] = v
				}
			}
			if len(extra) > 0 {
				comp.add(p+"spec.pod.annotations (those of this region only)", sts, podTemplatePatch(map[string]any{"metadata": map[string]any{"annotations": extra}}))
			}
			if len(cc.Spec.Pod.Tolerations) > 0 {
				comp.add(p+"spec.pod.tolerations", sts, podTemplatePatch(map[string]any{"spec": map[string]any{"tolerations": cc.Spec.Pod.Tolerations}}))
			}
		}
		if s := cc.Spec.ImagePullSecret; s != nil && s.Name != "" {
			comp.add(p+"spec.imagePullSecret", sts, podTemplatePatch(map[string]any{"spec": map[string]any{"imagePullSecrets": []any{map[string]any{"name": s.Name}}}}))
		}
		c.securityContext(comp, rg, sts)
		if cc.Spec.Service != nil && len(cc.Spec.Service.Annotations) > 0 {
			comp.add(p+"spec.service.annotations (on the headless Service, e.g. for external-dns)", target{kind: "Service", name: name},
				mustYAML(map[string]any{"apiVersion": "v1", "kind": "Service", "metadata": map[string]any{"name": name, "annotations": cc.Spec.Service.Annotations}}))
		}
	}
}

// dcStorage patches a datacenter's volume claim template where its
// capacity or class is not the cluster's.
func (c *conv) dcStorage(comp *component, rg region, d dc, field string) {
	size, class := first(d.DataCapacity, rg.cc.Spec.DataCapacity), first(d.DataStorageClass, rg.cc.Spec.DataStorageClass)
	if size == "" {
		c.refuse(field+".dataCapacity", "no data capacity here nor in spec.dataCapacity: CassKop ran these nodes without a persistent volume, and ringops keeps every node's data on one (volume claim template data)",
			"give the cluster a dataCapacity (its StatefulSets then need re-creating, which CassKop does not do in place), or keep it on CassKop")
		return
	}
	st := c.spec.Spec.Storage
	sel := target{kind: "StatefulSet", labelSelector: "ringops.dev/cluster=" + c.spec.Metadata.Name + ",ringops.dev/datacenter=" + d.Name}
	var ops []any
	what := []string{}
	if class != st.StorageClassName {
		if class == "" {
			ops = append(ops, map[string]any{"op": "remove", "path": "/spec/volumeClaimTemplates/0/spec/storageClassName"})
		} else {
			ops = append(ops, map[string]any{"op": "add", "path": "/spec/volumeClaimTemplates/0/spec/storageClassName", "value": class})
		}
		what = append(what, "dataStorageClass")
	}
	if size != st.Size {
		ops = append(ops, map[string]any{"op": "replace", "path": "/spec/volumeClaimTemplates/0/spec/resources/requests/storage", "value": size})
		what = append(what, "dataCapacity")
		c.f.warn(field+".dataCapacity", fmt.Sprintf("%s where the seed datacenter has %s: carried as a patch in regions/%s; ringops checks growth of spec.storage.size only", size, st.Size, rg.context),
			"keep the patch as it is, and grow this datacenter's volumes through it")
	}
	if len(ops) > 0 {
		comp.add(field+" "+strings.Join(what, ", ")+" (a volume claim template cannot change once its StatefulSet exists)", sel, mustYAML(ops))
	}
}

// affinity carries CassKop's node affinity: one required term with a
// matchExpression In per label of the datacenter and the rack, sorted
// by key.
func (c *conv) affinity(comp *component, cluster string, d dc, rk rack, field string) {
	labels := maps.Clone(d.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	maps.Copy(labels, rk.Labels)
	if len(labels) == 0 {
		return
	}
	var exprs []any
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		exprs = append(exprs, map[string]any{"key": k, "operator": "In", "values": []any{labels[k]}})
	}
	sts := cluster + "-" + d.Name + "-" + rk.Name
	body := map[string]any{
		"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": map[string]any{"name": sts},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"affinity": map[string]any{"nodeAffinity": map[string]any{
			"requiredDuringSchedulingIgnoredDuringExecution": map[string]any{"nodeSelectorTerms": []any{map[string]any{"matchExpressions": exprs}}},
		}}}}},
	}
	comp.add(field+".labels and its datacenter's labels: CassKop's node affinity for rack "+rk.Name, target{kind: "StatefulSet", name: sts}, mustYAML(body))
}

// securityContext keeps the user and group CassKop ran Cassandra as: the
// data files on the volumes are theirs.
func (c *conv) securityContext(comp *component, rg region, sts target) {
	s := rg.cc.Spec
	uid, gid := int64(defaultRunAsUser), int64(defaultFSGroup)
	if s.RunAsUser != nil {
		uid = *s.RunAsUser
	}
	if s.FSGroup != nil {
		gid = *s.FSGroup
	}
	comp.add(prefix(rg.field)+"spec.runAsUser and spec.fsGroup (CassKop's defaults 999 and 1): the data files on the volumes belong to this user",
		sts, podTemplatePatch(map[string]any{"spec": map[string]any{"securityContext": map[string]any{"runAsUser": uid, "fsGroup": gid}}}))
	if uid != defaultRunAsUser {
		c.f.warn(prefix(rg.field)+"spec.runAsUser", fmt.Sprintf("%d: carried in regions/%s (the data files belong to it); the official image's entrypoint runs as uid 999 (cassandra) and writes /etc/cassandra", uid, rg.context),
			"check your image starts as this user before the first apply")
	}
}

func podTemplatePatch(template map[string]any) string {
	return mustYAML(map[string]any{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": map[string]any{"name": "any"},
		"spec": map[string]any{"template": template}})
}

func mustYAML(v any) string {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil { // maps of strings, numbers and lists always encode
		panic(err)
	}
	if err := enc.Close(); err != nil {
		panic(err)
	}
	return b.String()
}

func (p *component) add(comment string, t target, body string) {
	p.patches = append(p.patches, patch{comment: comment, target: t, body: body})
}

// yaml is the Component's kustomization.yaml.
func (p *component) yaml(cluster string, r ring) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(k string, v *yaml.Node) *yaml.Node {
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: k}
		root.Content = append(root.Content, key, v)
		return key
	}
	scalar := func(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }
	k := add("apiVersion", scalar("kustomize.config.k8s.io/v1alpha1"))
	k.HeadComment = fmt.Sprintf("The %s region of the cluster %q: a kustomize Component applied to what\n"+
		"ringops renders for the datacenters of this kube context. Written by\n"+
		"ringops import from %s (%s); each patch names the field it carries.", p.context, cluster, r.file, r.object)
	add("kind", scalar("Component"))
	if len(p.patches) == 0 {
		return encode(root)
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, pt := range p.patches {
		item := &yaml.Node{Kind: yaml.MappingNode, HeadComment: "From " + pt.comment + "."}
		tgt := &yaml.Node{Kind: yaml.MappingNode}
		tgt.Content = append(tgt.Content, scalar("kind"), scalar(pt.target.kind))
		if pt.target.name != "" {
			tgt.Content = append(tgt.Content, scalar("name"), scalar(pt.target.name))
		}
		if pt.target.labelSelector != "" {
			tgt.Content = append(tgt.Content, scalar("labelSelector"), scalar(pt.target.labelSelector))
		}
		item.Content = append(item.Content, scalar("target"), tgt,
			scalar("patch"), &yaml.Node{Kind: yaml.ScalarNode, Style: yaml.LiteralStyle, Value: pt.body})
		list.Content = append(list.Content, item)
	}
	add("patches", list)
	return encode(root)
}

func encode(root *yaml.Node) ([]byte, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return []byte(b.String()), nil
}
