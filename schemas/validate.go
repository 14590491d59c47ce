package schemas

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// MaxStatefulSetName is the longest StatefulSet name <cluster>-<dc>-<rack>
// allowed: the controller-revision-hash label of its pods,
// <statefulset>-<10 characters>, must stay a 63-character label value.
const MaxStatefulSetName = 52

// Validate checks a defaulted cluster against every rule of the format and
// returns the problems found, sorted by line, or nil. Errors point at lines
// when the cluster came from Parse or Load.
func (c *CassandraCluster) Validate() ErrorList {
	v := &validator{c: c}
	idErrs, _ := c.identityErrors()
	v.errs = append(v.errs, idErrs...)
	v.metadata()
	v.spec()
	v.datacenters()
	v.keyspaces()
	v.operations() // replace (#16)
	v.bounds()
	v.statefulSetNames()
	return v.errs.sorted()
}

// validator collects the errors of one cluster.
type validator struct {
	c    *CassandraCluster
	errs ErrorList
}

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, v.c.errorAt(field, format, args...))
}

// identityErrors checks apiVersion and kind; foreign is true when either
// is present and wrong, i.e. the file is something else than a cluster spec.
func (c *CassandraCluster) identityErrors() (errs ErrorList, foreign bool) {
	switch {
	case c.APIVersion == "":
		errs = append(errs, c.errorAt("apiVersion", "required; expected %s", APIVersion))
	case c.APIVersion != APIVersion && c.Kind == Kind:
		foreign = true
		errs = append(errs, c.errorAt("apiVersion", "%q is not supported by this version of ringops; expected %s", c.APIVersion, APIVersion))
	case c.APIVersion != APIVersion:
		foreign = true
		errs = append(errs, c.errorAt("apiVersion", "expected %s, got %q; this file is not a ringops cluster spec", APIVersion, c.APIVersion))
	}
	switch {
	case c.Kind == "":
		errs = append(errs, c.errorAt("kind", "required; expected %s", Kind))
	case c.Kind != Kind:
		foreign = true
		errs = append(errs, c.errorAt("kind", "expected %s, got %q; this file is not a ringops cluster spec", Kind, c.Kind))
	}
	return errs, foreign
}

func (v *validator) metadata() {
	m := v.c.Metadata
	if m.Name == "" {
		v.add("metadata.name", "required: the cluster name, a DNS-1035 label such as orders")
	} else {
		v.dns1035("metadata.name", m.Name)
	}
	if msgs := validation.IsDNS1123Label(m.Namespace); len(msgs) > 0 {
		v.add("metadata.namespace", "%q is not a valid namespace: %s", m.Namespace, dns1123LabelHint(m.Namespace))
	}
	v.labels("metadata.labels", m.Labels)
	v.annotations("metadata.annotations", m.Annotations)
}

func (v *validator) spec() {
	s := &v.c.Spec
	if strings.ContainsFunc(s.CassandraClusterName, isControl) {
		v.add("spec.cassandraClusterName", "%q contains a control character; use printable text", s.CassandraClusterName)
	}
	v.image("spec.image", s.Image, true)
	v.enum("spec.imagePullPolicy", s.ImagePullPolicy, ClusterSpec{}, "imagePullPolicy")
	if s.NodesPerRack != nil && *s.NodesPerRack < 1 {
		v.add("spec.nodesPerRack", "%d is too small: at least 1 (to empty one datacenter before removing it, set that datacenter's nodesPerRack: 0)", *s.NodesPerRack)
	}
	if s.SeedsPerDatacenter != nil && *s.SeedsPerDatacenter < 1 {
		v.add("spec.seedsPerDatacenter", "%d is too small: every datacenter needs at least 1 seed", *s.SeedsPerDatacenter)
	}
	v.resources("spec.resources", s.Resources)
	v.storage()
	v.config()
	v.jolokia()
	v.cql()
	v.cqlAuth()
	v.rollout()
	v.pod()
	v.env()
}

func (v *validator) datacenters() {
	dcs := v.c.Spec.Datacenters
	if len(dcs) == 0 {
		v.add("spec.datacenters", "at least one datacenter is required, e.g. [{name: dc1, context: eu-west, racks: [{name: r1}]}]")
		return
	}
	first := map[string]int{}
	var total int64
	allHaveRacks := true
	for i := range dcs {
		dc := &dcs[i]
		p := fmt.Sprintf("spec.datacenters[%d]", i)
		if _, dup := first[dc.Name]; dup && dc.Name != "" {
			v.add(p+".name", "%q is used twice; datacenter names must be unique", dc.Name)
		} else {
			first[dc.Name] = i
		}
		v.datacenter(p, dc)
		total += datacenterNodes(dc)
		allHaveRacks = allHaveRacks && len(dc.Racks) > 0
	}
	if total == 0 && allHaveRacks {
		v.add("spec.datacenters", "every datacenter has 0 nodes, and a cluster needs nodes: give at least one datacenter nodesPerRack >= 1 (0 is only for emptying a datacenter before removing it)")
	}
}

func (v *validator) datacenter(p string, dc *Datacenter) {
	if dc.Name == "" {
		v.add(p+".name", "required: the Cassandra datacenter name, a DNS-1035 label such as dc1")
	} else {
		v.dns1035(p+".name", dc.Name)
	}
	v.context(p+".context", dc.Context)
	spec := v.c.Spec.NodesPerRack
	if dc.NodesPerRack != nil && *dc.NodesPerRack < 0 && (spec == nil || *spec != *dc.NodesPerRack) {
		v.add(p+".nodesPerRack", "%d is negative; at least 0 (0 empties the datacenter before its removal)", *dc.NodesPerRack)
	}
	v.replication(p, dc)
	// The default domain is valid when the name and namespace are, which
	// are checked on their own.
	if dc.DNSDomain != "" && dc.DNSDomain != v.c.defaultDNSDomain() {
		v.dnsDomain(p+".dnsDomain", dc.DNSDomain)
	}
	if dc.Resources != v.c.Spec.Resources {
		v.resources(p+".resources", dc.Resources)
	}
	v.racks(p, dc)
	v.tokenAllocation(p, dc)
}

func (v *validator) replication(p string, dc *Datacenter) {
	if dc.ReplicationFactor == nil {
		return
	}
	rf := *dc.ReplicationFactor
	if rf < 0 {
		v.add(p+".replicationFactor", "%d is negative; at least 0", rf)
		return
	}
	if len(v.c.Spec.Keyspaces) > 0 {
		return // the factors of spec.keyspaces are checked against the nodes, keyspace by keyspace
	}
	if n := datacenterNodes(dc); n < int64(rf) {
		v.add(p+".replicationFactor", "datacenter %s would have %s, fewer than its replicationFactor %d, so keyspaces replicated %d times there could not place their replicas: first ALTER KEYSPACE to replicate fewer times in %s (or not at all), then lower replicationFactor, then the nodes",
			dc.Name, plural(int32(n), "node"), rf, rf, dc.Name)
	}
}

func (v *validator) racks(p string, dc *Datacenter) {
	if len(dc.Racks) == 0 {
		v.add(p+".racks", "at least one rack is required, e.g. [{name: r1}]")
		return
	}
	first := map[string]int{}
	for j, r := range dc.Racks {
		rp := fmt.Sprintf("%s.racks[%d]", p, j)
		switch _, dup := first[r.Name]; {
		case r.Name == "":
			v.add(rp+".name", "required: the Cassandra rack name, a DNS-1035 label such as r1")
		case dup:
			v.add(rp+".name", "%q is used twice in datacenter %s; rack names must be unique within a datacenter", r.Name, dc.Name)
		default:
			first[r.Name] = j
			v.dns1035(rp+".name", r.Name)
		}
		if r.Nodes != nil && *r.Nodes < 0 && (dc.NodesPerRack == nil || *dc.NodesPerRack != *r.Nodes) {
			v.add(rp+".nodes", "%d is negative; at least 0", *r.Nodes)
		}
	}
}

// statefulSetNames checks that every rack's StatefulSet name is short
// enough and that no two racks produce the same one.
func (v *validator) statefulSetNames() {
	c := v.c
	if !isDNS1035(c.Metadata.Name) {
		return
	}
	owner := map[string]string{}
	for i, dc := range c.Spec.Datacenters {
		if !isDNS1035(dc.Name) {
			continue
		}
		for j, r := range dc.Racks {
			if !isDNS1035(r.Name) {
				continue
			}
			rp := fmt.Sprintf("spec.datacenters[%d].racks[%d]", i, j)
			sts := c.StatefulSetName(dc.Name, r.Name)
			if len(sts) > MaxStatefulSetName {
				v.add(rp+".name", "StatefulSet name %q is %d characters, %d over the limit of %d (its pods <name>-<ordinal> and their controller-revision-hash label <name>-<10 characters> must stay within 63): shorten the cluster, datacenter or rack name",
					sts, len(sts), len(sts)-MaxStatefulSetName, MaxStatefulSetName)
			}
			label := fmt.Sprintf("datacenter %q rack %q (%s)", dc.Name, r.Name, rp)
			if other, taken := owner[sts]; taken && !strings.HasPrefix(other, fmt.Sprintf("datacenter %q rack %q ", dc.Name, r.Name)) {
				v.add(rp+".name", "StatefulSet name %q is also produced by %s; rename this datacenter or rack", sts, other)
			} else if !taken {
				owner[sts] = label
			}
		}
	}
}

// context checks a kube context name, which also names the directory
// regions/<context>/ of the region's Component.
func (v *validator) context(field, ctx string) {
	if ctx == "" {
		v.add(field, "required: the kube context (region) this datacenter runs in, e.g. eu-west")
	} else if msg := ContextProblem(ctx); msg != "" {
		v.add(field, "%s", msg)
	}
}

// ContextProblem says why a kube context name cannot name a datacenter's
// region ("" when it can): it names the directory regions/<context>/ of
// the cluster, so it must be a clean relative path, without whitespace or
// control characters.
func ContextProblem(ctx string) string {
	switch {
	case strings.ContainsFunc(ctx, func(r rune) bool { return r == ' ' || r == '\t' || r == '\n' || r == '\r' || isControl(r) }):
		return fmt.Sprintf("%q is not a valid kube context name: it contains whitespace or a control character", ctx)
	case !isLocalDir(ctx):
		return fmt.Sprintf("%q cannot be used as a context name: it names the directory regions/<context>/, which must stay inside regions/ (no leading /, no . or .. segments)", ctx)
	}
	return ""
}

// isLocalDir reports whether p is a clean relative path below its parent.
func isLocalDir(p string) bool {
	if strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// dns1035 checks a name that must be a DNS-1035 label.
func (v *validator) dns1035(field, name string) {
	if isDNS1035(name) {
		return
	}
	if len(name) > validation.DNS1035LabelMaxLength {
		v.add(field, "%q is %d characters, over the limit of %d", name, len(name), validation.DNS1035LabelMaxLength)
		return
	}
	v.add(field, "%q is not a valid name: use lower-case letters, digits and '-', starting with a letter and ending with a letter or digit (a DNS-1035 label)", name)
}

func isDNS1035(name string) bool { return len(validation.IsDNS1035Label(name)) == 0 }

func dns1123LabelHint(name string) string {
	if len(name) > validation.DNS1123LabelMaxLength {
		return fmt.Sprintf("it is %d characters, over the limit of %d", len(name), validation.DNS1123LabelMaxLength)
	}
	return "use lower-case letters, digits and '-', starting and ending with a letter or digit (a DNS-1123 label)"
}

// plural says "1 node", "3 nodes".
func plural(n int32, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
