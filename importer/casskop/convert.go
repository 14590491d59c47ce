package casskop

import (
	"fmt"
	"maps"
	"path"
	"reflect"
	"slices"
	"strings"

	"github.com/ringops/ringops/schemas"
)

type converted struct {
	name     string
	files    map[string][]byte
	findings []Finding
	sources  []string
}

// conv is the conversion of one ring.
type conv struct {
	r        ring
	f        *findings
	refused  []Refusal
	spec     *schemas.CassandraCluster
	comments map[string]string // cluster.yaml's comments, by field path
	comps    map[string]*component
	cms      map[configMapKey]map[string]string
}

func convert(r ring, cms map[configMapKey]map[string]string) (*converted, []Refusal) {
	c := &conv{r: r, f: &findings{file: r.file, object: r.object}, comments: map[string]string{}, comps: map[string]*component{}, cms: cms}
	for i := range r.regions {
		rg := &r.regions[i]
		c.reportUnknown(rg.own, prefix(rg.field))
		pruned := prune(r.version, rg.raw)
		strictPrune(pruned, reflect.TypeFor[cassandraCluster](), "")
		cc, rf := decodeCC(r.file, rg.field, pruned)
		if rf != nil {
			return nil, []Refusal{*rf}
		}
		rg.cc = cc
	}
	if r.base != nil {
		c.reportUnknown(r.base, "spec.base.")
	}
	c.build()
	if len(c.refused) > 0 {
		return nil, c.refused
	}
	files, err := c.files()
	if err != nil {
		return nil, []Refusal{{File: r.file, Problem: err.Error(), Fix: "report this to ringops: the import wrote a Component it cannot encode"}}
	}
	if len(c.refused) > 0 {
		return nil, c.refused
	}
	return &converted{name: c.spec.Metadata.Name, files: files, findings: dedupe(c.baseFields(c.f.list)), sources: []string{r.file}}, nil
}

// baseFields names a MultiCasskop's fields as they are written: those the
// first region took from the base are below spec.base.
func (c *conv) baseFields(list []Finding) []Finding {
	if c.r.base == nil {
		return list
	}
	for i, f := range list {
		if (strings.HasPrefix(f.Field, "spec.") || strings.HasPrefix(f.Field, "status.")) &&
			!strings.HasPrefix(f.Field, "spec.override") && !strings.HasPrefix(f.Field, "spec.base") {
			list[i].Field = "spec.base." + f.Field
		}
	}
	return list
}

// reportUnknown reports the fields of raw (a CassandraCluster, or a
// MultiCasskop's base or override) that CassKop's CRD does not declare,
// as written (CassKop's names are case-sensitive).
func (c *conv) reportUnknown(raw map[string]any, pre string) {
	for _, u := range unknownFields(c.r.version, raw, pre) {
		c.unknown(u)
	}
	for _, u := range strictPrune(prune(c.r.version, raw), reflect.TypeFor[cassandraCluster](), strings.TrimSuffix(pre, ".")) {
		rel := strings.TrimPrefix(u, pre)
		if !strings.HasPrefix(rel, "metadata.") && !strings.HasPrefix(rel, "status.") { // the server's, not CassKop's
			c.unknown(u)
		}
	}
}

func prefix(field string) string {
	if field == "" {
		return ""
	}
	return field + "."
}

// dedupe drops the findings a MultiCasskop's regions repeat.
func dedupe(list []Finding) []Finding {
	var out []Finding
	for _, f := range list {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func (c *conv) refuse(field, problem, fix string) {
	c.refused = append(c.refused, Refusal{File: c.r.file, Field: field, Problem: problem, Fix: fix})
}

// unknown reports a field the CRD does not declare.
func (c *conv) unknown(field string) {
	switch {
	case strings.HasSuffix(field, ".numTokens") && c.r.version == groupV2:
		c.f.warn(field, "a v1alpha1 field, not in the v2 CRD: the API server pruned it and CassKop never saw it; not carried",
			"if your nodes run with that num_tokens, set spec.config.cassandra-yaml.num_tokens (nodetool ring shows their tokens)")
	case strings.HasSuffix(field, ".gcStdout"):
		c.f.warn(field, "a v1alpha1 field, not in the v2 CRD: not carried", "ringops leaves GC logging to the image: add JVM options to spec.config.jvm-options if you want it")
	default:
		c.f.warn(field, "not in CassKop's CRD ("+c.r.version+"): the API server pruned it and CassKop never saw it; not carried",
			"check the spelling in your manifest (CassKop's field names are case-sensitive, e.g. imagepullpolicy)")
	}
}

func (c *conv) seed() *cassandraCluster { return c.r.regions[0].cc }

func (c *conv) build() {
	cc := c.seed()
	c.spec = &schemas.CassandraCluster{APIVersion: schemas.APIVersion, Kind: schemas.Kind}
	c.metadata(cc)
	s := &c.spec.Spec
	s.Image = cc.Spec.CassandraImage
	if s.Image == "" {
		s.Image = defaultImage
		c.comment("spec.image", "CassKop's default image (spec.cassandraImage was empty)")
	} else {
		c.comment("spec.image", "from spec.cassandraImage")
	}
	s.ImagePullPolicy = cc.Spec.ImagePullPolicy
	if s.ImagePullPolicy == "" {
		s.ImagePullPolicy = defaultPullPolicy
		c.comment("spec.imagePullPolicy", "CassKop's default, Always (ringops' is IfNotPresent)")
	}
	s.Adopt = true
	c.comment("spec.adopt", "take CassKop's running StatefulSets, Service and pods over in place, with no restart (README: Coming from CassKop)")
	c.nodes()
	c.resourcesOf()
	c.storage()
	c.datacenters()
	c.config()
	c.cqlAuthentication()
	c.tokenAllocation()
	c.jolokia()
	c.pod()
	c.env()
	c.rollout()
	c.regionals()
	c.notCarried()
	c.configMaps()
}

func (c *conv) comment(path, text string) {
	if prev, ok := c.comments[path]; ok && prev != text {
		c.comments[path] = prev + "; " + text
		return
	}
	c.comments[path] = text
}

func (c *conv) metadata(cc *cassandraCluster) {
	m := &c.spec.Metadata
	m.Name = cc.Metadata.Name
	m.Namespace = cc.Metadata.Namespace
	if m.Namespace == "" {
		m.Namespace = c.r.namespace
	}
	if m.Namespace == "" {
		m.Namespace = "default"
		c.f.note("metadata.namespace", "none in the manifest: default assumed", "set metadata.namespace in cluster.yaml if the CassandraCluster lives in another namespace")
	}
	for _, rg := range c.r.regions[1:] {
		if rg.cc.Metadata.Name != m.Name {
			c.refuse(rg.field+".metadata.name", fmt.Sprintf("%q where the first region's is %q: one ring has one name (Cassandra's cluster_name)", rg.cc.Metadata.Name, m.Name),
				"remove metadata.name from the override")
		}
	}
	if len(cc.Metadata.Labels) > 0 {
		m.Labels = maps.Clone(cc.Metadata.Labels)
		c.comment("metadata.labels", "the CassandraCluster's labels; ringops puts them on every object and pod it renders")
	}
}

// nodes: spec.nodesPerRacks (CassKop's default 1; 0 means unset in v2).
func (c *conv) nodes() {
	n := int32(1)
	if p := c.seed().Spec.NodesPerRacks; p != nil && *p > 0 {
		n = *p
	}
	c.spec.Spec.NodesPerRack = &n
	c.comment("spec.nodesPerRack", "from spec.nodesPerRacks")
}

func (c *conv) dcNodes(cc *cassandraCluster, d *dc) int32 {
	if d.NodesPerRacks != nil {
		return *d.NodesPerRacks
	}
	if p := cc.Spec.NodesPerRacks; p != nil && *p > 0 {
		return *p
	}
	return 1
}

// resourcesOf: spec.resources; CassKop sets the limits to the requests
// when it has none.
func (c *conv) resourcesOf() {
	r := convertResources(c.seed().Spec.Resources)
	if r == nil {
		return
	}
	c.spec.Spec.Resources = r
	c.comment("spec.resources", "from spec.resources (limits equal to the requests where CassKop set them so)")
}

func convertResources(in *resources) *schemas.Resources {
	if in == nil || len(in.Requests) == 0 && len(in.Limits) == 0 {
		return nil
	}
	out := &schemas.Resources{Requests: quantities(in.Requests), Limits: quantities(in.Limits)}
	if len(out.Limits) == 0 {
		out.Limits = maps.Clone(out.Requests)
	}
	if len(out.Requests) == 0 {
		out.Requests = nil
	}
	return out
}

func quantities(in map[string]any) map[string]string {
	if len(in) == 0 {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = fmt.Sprint(v)
	}
	return out
}

// storage: the seed datacenter's capacity and class; a datacenter that
// differs gets a patch in its region's Component.
func (c *conv) storage() {
	cc := c.seed()
	size, class := cc.Spec.DataCapacity, cc.Spec.DataStorageClass
	if len(cc.Spec.Topology.DC) > 0 {
		d := cc.Spec.Topology.DC[0]
		size, class = first(d.DataCapacity, size), first(d.DataStorageClass, class)
	}
	s := &c.spec.Spec.Storage
	s.Size, s.StorageClassName = size, class
	s.DeleteOnDecommission = true
	c.comment("spec.storage", "from spec.dataCapacity and spec.dataStorageClass")
	c.comment("spec.storage.deleteOnDecommission", "CassKop deleted the PVC of every node it decommissioned")
	c.f.note("spec.deletePVC", fmt.Sprintf("%t: CassKop deleted PVCs when the CassandraCluster was deleted; ringops never deletes a cluster's volumes when its directory goes", cc.Spec.DeletePVC),
		"")
	c.f.note("spec.deletePVC", "storage.deleteOnDecommission set to true: CassKop always deleted the PVC data-<pod> of a node it decommissioned (scale down), whatever deletePVC said",
		"set it to false to keep the volumes of decommissioned nodes")
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// cqlAuthentication writes down the authentication the running ring has,
// so that adopting it changes nothing: ringops' default for a spec that
// says nothing is Password, while CassKop leaves Cassandra's
// AllowAllAuthenticator unless config.cassandra-yaml names another.
func (c *conv) cqlAuthentication() {
	s := &c.spec.Spec
	if cfg := s.Config; cfg != nil {
		if a, ok := cfg.CassandraYAML["authenticator"]; ok {
			if c.spec.CQLAuthentication() == schemas.CQLAuthPassword {
				c.f.warn("spec.config.cassandra-yaml.authenticator", fmt.Sprintf("%v: ringops logs in as cassandra/cassandra once to create its own CQL role ringops (password in the Secret %s-cql of each region), then disables the default superuser cassandra", a, c.spec.Metadata.Name),
					"if your clients or tools log in as cassandra, give them roles of their own first; or set spec.cql.credentialsSecret to a Secret (keys username, password) of a superuser role you keep, and ringops uses it instead")
			}
			return
		}
	}
	s.CQL = &schemas.CQL{Authentication: schemas.CQLAuthNone}
	c.comment("spec.cql", "the ring runs Cassandra's default AllowAllAuthenticator (config.cassandra-yaml names none); switching to Password is a change of every client, and restarts every node: a commit of its own")
}

// jolokia: CassKop's imageJolokiaSecret has ringops' keys (username,
// password).
func (c *conv) jolokia() {
	cc := c.seed()
	if s := cc.Spec.ImageJolokiaSecret; s != nil && s.Name != "" {
		c.spec.Spec.Jolokia = &schemas.Jolokia{CredentialsSecret: s.Name}
		c.comment("spec.jolokia", "from spec.imageJolokiaSecret (keys username and password, as CassKop's)")
	}
	c.f.note("spec.bootstrapImage", "CassKop's bootstrap image ("+first(cc.Spec.BootstrapImage, defaultBootstrapImage)+") put a Jolokia agent and the configuration into each pod; ringops injects its own agent (spec.jolokia.agentImage) and renders cassandra.yaml itself",
		"")
	c.f.note("spec.configBuilderImage", "CassKop's config builder filled cassandra.yaml with its own defaults where config.cassandra-yaml says nothing (request timeouts, for one); "+
		"ringops starts from the image's cassandra.yaml, so those defaults go at the first restart on ringops' template (not at the adoption, which keeps CassKop's template)",
		"compare /etc/cassandra/cassandra.yaml of a running pod with the image's, and carry what matters into spec.config.cassandra-yaml before a change that restarts the nodes")
	if strings.Contains(c.spec.Spec.Image, ":3.") || !strings.Contains(c.spec.Spec.Image, ":") {
		c.f.warn("spec.cassandraImage", fmt.Sprintf("%s may run Cassandra 3.11 on Java 8, and ringops' default Jolokia agent (2.x) needs Java 11", c.spec.Spec.Image),
			"build images/jolokia-agent with a 1.x agent and set spec.jolokia.agentImage to it, or upgrade to Cassandra 4.1 first")
	}
}

// pod: CassKop's pod settings ringops' spec has.
func (c *conv) pod() {
	cc := c.seed()
	ps := &schemas.PodSettings{HardAntiAffinity: cc.Spec.HardAntiAffinity}
	ps.ServiceAccountName = first(cc.Spec.ServiceAccountName, defaultServiceAccount)
	c.comment("spec.pod.serviceAccountName", "CassKop's ("+ps.ServiceAccountName+"); the ServiceAccount must exist in every region")
	if cc.Spec.HardAntiAffinity {
		c.comment("spec.pod.hardAntiAffinity", "from spec.hardAntiAffinity")
	}
	ps.Annotations = c.commonPodAnnotations()
	if len(ps.Annotations) > 0 {
		c.comment("spec.pod.annotations", "from spec.pod.annotations (those every region has)")
	}
	c.spec.Spec.Pod = ps
}

func (c *conv) commonPodAnnotations() map[string]string {
	var common map[string]string
	for i, rg := range c.r.regions {
		var a map[string]string
		if rg.cc.Spec.Pod != nil {
			a = rg.cc.Spec.Pod.Annotations
		}
		if i == 0 {
			common = maps.Clone(a)
			continue
		}
		for k, v := range common {
			if a[k] != v {
				delete(common, k)
			}
		}
	}
	return common
}

// env: the fork's envVars with a value.
func (c *conv) env() {
	for _, e := range c.seed().Spec.EnvVars {
		if e.ValueFrom != nil {
			c.f.warn("spec.envVars."+e.Name, "valueFrom is not carried (spec.env takes values)", "add it with a patch of the StatefulSets' cassandra container in regions/<context>/kustomization.yaml")
			continue
		}
		if c.spec.Spec.Env == nil {
			c.spec.Spec.Env = map[string]string{}
		}
		c.spec.Spec.Env[e.Name] = e.Value
	}
	if len(c.spec.Spec.Env) > 0 {
		c.comment("spec.env", "from spec.envVars")
	}
}

// rollout: autoPilot and keyspaceCleanupThreads.
func (c *conv) rollout() {
	cc := c.seed()
	ro := &schemas.Rollout{}
	set := false
	if !cc.Spec.AutoPilot {
		f := false
		ro.CleanupAfterScaleUp, set = &f, true
		c.comment("spec.rollout.cleanupAfterScaleUp", "spec.autoPilot was false: no automatic cleanup after nodes join")
		c.f.warn("spec.autoPilot", "false: carried as rollout.cleanupAfterScaleUp: false (CassKop labelled the pods for a manual cleanup after a scale up; ringops then cleans up nothing)",
			"remove cleanupAfterScaleUp to let ringops run nodetool cleanup on each older node, one at a time, gated on ring health")
	} else {
		c.f.note("spec.autoPilot", "true: ringops cleans up after a scale up by default (rollout.cleanupAfterScaleUp), one node at a time; CassKop's other pod operations (rebuild, remove, upgradesstables) are ringops' own steps or spec.operations", "")
	}
	if n := cc.Spec.KeyspaceCleanupThreads; n != nil {
		switch {
		case *n >= 1 && *n <= 32:
			ro.CleanupJobs, set = n, true
			c.comment("spec.rollout.cleanupJobs", "from spec.keyspaceCleanupThreads")
		default:
			c.f.warn("spec.keyspaceCleanupThreads", fmt.Sprintf("%d (0 is every table at once in CassKop): not carried; ringops cleans up 1 table at a time by default, at most 32", *n),
				"set spec.rollout.cleanupJobs if 1 is too slow")
		}
	}
	if set {
		c.spec.Spec.Rollout = ro
	}
}

// datacenters: every region's topology, in region order; the first
// datacenter is ringops' seed datacenter.
func (c *conv) datacenters() {
	seen := map[string]string{}
	nodes := *c.spec.Spec.NodesPerRack
	for _, rg := range c.r.regions {
		cc := rg.cc
		if msg := schemas.ContextProblem(rg.context); rg.context == "" || msg != "" {
			field, fix := rg.field, "rename the override key to the kube context ringops will use, e.g. eu-west"
			if field == "" {
				field, fix = "--context", "give a --context such as eu-west"
			}
			if msg == "" {
				msg = "an empty kube context cannot name a region"
			}
			c.refuse(field, msg, fix)
			continue
		}
		if len(cc.Spec.Topology.DC) == 0 {
			cc.Spec.Topology.DC = []dc{{Name: "dc1", Rack: []rack{{Name: "rack1"}}}}
			c.f.note(prefix(rg.field)+"spec.topology", "none: CassKop's default, datacenter dc1 with rack rack1", "")
		}
		for i := range cc.Spec.Topology.DC {
			d := &cc.Spec.Topology.DC[i]
			field := fmt.Sprintf("%sspec.topology.dc[%d]", prefix(rg.field), i)
			if d.Name == "" {
				c.refuse(field+".name", "missing", "name the datacenter (CassKop requires it too)")
				continue
			}
			if prev, ok := seen[d.Name]; ok {
				c.refuse(field+".name", fmt.Sprintf("%q is also the datacenter of %s: a datacenter lives in one region", d.Name, prev), "rename one in its override (Cassandra sees one datacenter of that name)")
				continue
			}
			seen[d.Name] = rg.context
			if len(d.Rack) == 0 {
				d.Rack = []rack{{Name: "rack1"}}
				c.f.note(field+".rack", "none: CassKop's default, rack rack1", "")
			}
			out := schemas.Datacenter{Name: d.Name, Context: rg.context}
			if n := c.dcNodes(cc, d); n != nodes {
				out.NodesPerRack = &n
			}
			for j, rk := range d.Rack {
				if rk.Name == "" {
					c.refuse(fmt.Sprintf("%s.rack[%d].name", field, j), "missing", "name the rack")
					continue
				}
				out.Racks = append(out.Racks, schemas.Rack{Name: rk.Name})
				c.rackFields(field, j, rk)
			}
			if r := convertResources(d.Resources); r != nil {
				out.Resources = r
			} else if r := convertResources(cc.Spec.Resources); r != nil && !reflect.DeepEqual(r, c.spec.Spec.Resources) {
				out.Resources = r
			}
			out.DNSDomain = c.dnsDomain(rg, d.Name)
			c.spec.Spec.Datacenters = append(c.spec.Spec.Datacenters, out)
			k := len(c.spec.Spec.Datacenters) - 1
			what := "from " + field
			if rg.field != "" {
				what += " (MultiCasskop override for " + rg.context + ")"
			}
			if k == 0 {
				what += "; the first datacenter: ringops' seed datacenter, rolled out first"
			}
			c.comment(fmt.Sprintf("spec.datacenters[%d]", k), what)
		}
	}
	if len(c.r.regions) > 1 {
		c.f.note("spec.override", "regions in the order the overrides are written: "+strings.Join(c.contexts(), ", ")+"; the first datacenter is ringops' seed datacenter",
			"the override keys became the kube contexts: name them so in your kubeconfig, or rename regions/<context> and the datacenters' context")
	}
}

func (c *conv) contexts() []string {
	var out []string
	for _, rg := range c.r.regions {
		out = append(out, rg.context)
	}
	return out
}

func (c *conv) rackFields(dcField string, j int, rk rack) {
	field := fmt.Sprintf("%s.rack[%d]", dcField, j)
	if rk.RollingPartition != 0 {
		c.f.warn(field+".rollingPartition", fmt.Sprintf("%d: not carried; ringops sets the partition itself, one pod at a time", rk.RollingPartition),
			"finish or undo the partial roll with CassKop before the import")
	}
	if rk.RollingRestart {
		c.f.warn(field+".rollingRestart", "true: not carried (a one-shot flag)", "to restart the rack with ringops, change something of its template (e.g. spec.pod.annotations)")
	}
}

// dnsDomain reads a datacenter's DNS domain from the seed list kept in
// status: a seed <cluster>-<dc>-<rack>-<n>.<domain>.
func (c *conv) dnsDomain(rg region, dcName string) string {
	pre := rg.cc.Metadata.Name + "-" + dcName + "-"
	for _, s := range rg.cc.Status.SeedList {
		host, domain, ok := strings.Cut(s, ".")
		if !ok || !strings.HasPrefix(host, pre) {
			continue
		}
		return strings.TrimSuffix(domain, ".")
	}
	return ""
}

// notCarried: the fields with no counterpart.
func (c *conv) notCarried() {
	cc := c.seed()
	s := cc.Spec
	c.f.note("status.seedlist", "ringops computes the seeds (spec.seedsPerDatacenter, lowest ordinals spread over racks) as <pod>.<dnsDomain>", "")
	if len(cc.Status.SeedList) > 0 {
		c.seedList(cc)
	}
	if s.AutoUpdateSeedList {
		c.f.note("spec.autoUpdateSeedList", "true: ringops always computes the seed list from the topology; a seed list change restarts no node on its own", "")
	} else {
		c.f.note("spec.autoUpdateSeedList", "false: ringops computes the seed list from the topology all the same", "")
	}
	if s.UnlockNextOperation {
		c.f.warn("spec.unlockNextOperation", "true: not carried; ringops has no one-shot unlock, a blocked rollout says what to do", "")
	}
	if s.NoCheckStsAreEqual {
		c.f.warn("spec.noCheckStsAreEqual", "true: not carried; ringops applies only what differs", "")
	}
	if s.Debug {
		c.f.warn("spec.debug", "true: not carried; ringops starts Cassandra in every pod", "set debug: false in CassKop and let the pods run Cassandra before the import")
	}
	if s.MaxPodUnavailable != nil && *s.MaxPodUnavailable != 1 {
		c.f.warn("spec.maxPodUnavailable", fmt.Sprintf("%d: not carried; ringops' PodDisruptionBudget allows 1", *s.MaxPodUnavailable), "")
	}
	if s.RestartCountBefore > 0 {
		c.f.warn("spec.restartCountBeforePodDeletion", "not carried; ringops does not delete crash-looping pods", "a node that cannot start blocks the rollout and ringops status names it")
	}
	if len(s.BackRestSidecar) > 0 {
		c.f.warn("spec.backRestSidecar", "not carried: ringops takes no backups and renders no Icarus sidecar", "keep backups with another tool (Medusa, snapshots to object storage); see README \"Coming from CassKop\"")
	}
	if len(s.SidecarConfigs) > 0 {
		c.f.warn("spec.sidecarConfigs", fmt.Sprintf("%d containers: not carried", len(s.SidecarConfigs)), "add them with a strategic merge patch of the StatefulSets in regions/<context>/kustomization.yaml")
	}
	if len(s.StorageConfigs) > 0 {
		c.f.warn("spec.storageConfigs", fmt.Sprintf("%d extra volume claim templates: not carried; Kubernetes cannot add them to running StatefulSets", len(s.StorageConfigs)), "keep their data elsewhere, or add them with a patch before the first apply")
	}
	if s.ShareProcessNamespace != nil && *s.ShareProcessNamespace {
		c.f.warn("spec.shareProcessNamespace", "true: not carried", "add it with a patch in regions/<context>/kustomization.yaml")
	}
	if len(s.JMXConfiguration) > 0 {
		c.f.warn("spec.jmxConfiguration", "not carried: ringops reads the nodes over Jolokia", "add the -Dcom.sun.management.jmxremote options to spec.config.jvm-options if you need remote JMX")
	}
	if s.ServerType != "" && s.ServerType != "cassandra" {
		c.refuse("spec.serverType", fmt.Sprintf("%q: ringops runs Apache Cassandra only", s.ServerType), "keep this cluster on CassKop")
	}
	if s.ServerVersion != "" {
		c.f.note("spec.serverVersion", s.ServerVersion+": not needed; ringops reads the version from the image tag and the nodes", "")
	}
	if s.ConfigBuilderImage != "" || s.InitContainerImage != "" || s.InitContainerCmd != "" {
		c.f.note("spec.configBuilderImage", "CassKop's config builder and init container are not used: ringops renders the configuration", "")
	}
	for _, p := range probeFields {
		if v := dig(c.r.regions[0].raw, "spec", p); v != nil {
			c.f.warn("spec."+p, fmt.Sprintf("%v: not carried; ringops' probes read the node's mode over Jolokia", v), "")
		}
	}
	if s.ReadOnlyRootFilesystem == nil || *s.ReadOnlyRootFilesystem {
		c.f.note("spec.readOnlyRootFilesystem", "CassKop ran the Cassandra container with a read-only root file system; ringops does not (the image's entrypoint writes /etc/cassandra)", "")
	}
	for _, rg := range c.r.regions {
		if rg.cc.Spec.CassandraImage != cc.Spec.CassandraImage {
			c.f.warn(prefix(rg.field)+"spec.cassandraImage", fmt.Sprintf("%q differs from the first region's %q: ringops runs one image per cluster; carried: %s", rg.cc.Spec.CassandraImage, cc.Spec.CassandraImage, c.spec.Spec.Image),
				"finish the image upgrade with CassKop before the import, or let ringops roll that region to "+c.spec.Spec.Image)
		}
		if rg.cc.Spec.ImagePullPolicy != cc.Spec.ImagePullPolicy && rg.cc.Spec.ImagePullPolicy != "" {
			c.f.note(prefix(rg.field)+"spec.imagepullpolicy", fmt.Sprintf("%q differs from the first region's: carried: %s", rg.cc.Spec.ImagePullPolicy, c.spec.Spec.ImagePullPolicy), "")
		}
		c.regionDiffs(rg)
	}
}

// regionDiffs: cluster-wide fields a region sets otherwise than the first.
func (c *conv) regionDiffs(rg region) {
	a, b := c.seed().Spec, rg.cc.Spec
	p := prefix(rg.field)
	check := func(field string, x, y any) {
		if !reflect.DeepEqual(x, y) {
			c.f.warn(p+field, "differs from the first region's: not carried for "+rg.context+" (ringops has one value per cluster)", "make it the same in every region")
		}
	}
	check("spec.hardAntiAffinity", a.HardAntiAffinity, b.HardAntiAffinity)
	check("spec.autoPilot", a.AutoPilot, b.AutoPilot)
	check("spec.imageJolokiaSecret", a.ImageJolokiaSecret, b.ImageJolokiaSecret)
	check("spec.serviceAccountName", a.ServiceAccountName, b.ServiceAccountName)
	check("spec.envVars", a.EnvVars, b.EnvVars)
}

// seedList: what the seeds in status say of the DNS names.
func (c *conv) seedList(cc *cassandraCluster) {
	pre := cc.Metadata.Name + "-"
	for _, s := range cc.Status.SeedList {
		if !strings.HasPrefix(s, pre) {
			c.f.warn("status.seedlist", fmt.Sprintf("%q is not a pod of %s (<cluster>-<dc>-<rack>-<n>.<domain>): not carried", s, cc.Metadata.Name),
				"set spec.datacenters[].dnsDomain to the domain every region resolves the pods under")
			return
		}
	}
	c.f.note("status.seedlist", "the domain of the seeds became each datacenter's dnsDomain", "")
}

// configMaps: what spec.configMapName referenced.
func (c *conv) configMaps() {
	done := map[string]bool{}
	for _, rg := range c.r.regions {
		name := rg.cc.Spec.ConfigMapName
		if name == "" || done[name] {
			continue
		}
		done[name] = true
		field := "spec.configMapName"
		if dig(rg.own, "spec", "configMapName") != nil && rg.field != "" {
			field = prefix(rg.field) + field
		}
		ns := first(first(rg.cc.Metadata.Namespace, c.r.namespace), "")
		data, ok := c.cms[configMapKey{ns, name}]
		if !ok {
			data, ok = c.cms[configMapKey{"", name}]
		}
		if !ok {
			c.f.warn(field, fmt.Sprintf("ConfigMap %s is not in the input: its files are not carried", name),
				"give it to the import (-f), or check by hand what it changes: ringops mounts no such ConfigMap")
			continue
		}
		for _, key := range slices.Sorted(maps.Keys(data)) {
			c.configMapKey(field, name, key, data[key])
		}
	}
}

func (c *conv) configMapKey(field, name, key, content string) {
	f := fmt.Sprintf("%s (ConfigMap %s, %s)", field, name, key)
	switch key {
	case "pre_run.sh", "post_run.sh":
		c.f.warn(f, "CassKop's bootstrap ran this hook before (pre_run.sh) or after (post_run.sh) it wrote the configuration; ringops runs no hooks: not carried ("+summarise(content)+")",
			"express what it does as spec.config.cassandra-yaml or spec.config.jvm-options (e.g. authenticator: PasswordAuthenticator); a replace_address belongs to ringops' replacement")
	default:
		c.f.warn(f, "CassKop copied this file over /etc/cassandra/"+key+": not carried",
			"carry its settings into spec.config.cassandra-yaml or spec.config.jvm-options")
	}
}

// summarise shows the first meaningful lines of a script.
func summarise(script string) string {
	var lines []string
	for _, l := range strings.Split(script, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, "echo") {
			continue
		}
		lines = append(lines, "`"+l+"`")
	}
	if len(lines) == 0 {
		return "it only prints"
	}
	if len(lines) > 3 {
		lines = append(lines[:3], fmt.Sprintf("and %d more lines", len(lines)-3))
	}
	return "it runs " + strings.Join(lines, ", ")
}

// files writes the repository files of the ring.
func (c *conv) files() (map[string][]byte, error) {
	dir := path.Join("clusters", c.spec.Metadata.Name)
	y, ok := c.fitted()
	if !ok {
		return nil, nil
	}
	out := map[string][]byte{path.Join(dir, schemas.SpecFile): y}
	for _, kctx := range c.contexts() {
		comp := c.comps[kctx]
		if comp == nil {
			comp = &component{context: kctx}
		}
		b, err := comp.yaml(c.spec.Metadata.Name, c.r)
		if err != nil {
			return nil, err
		}
		out[path.Join(dir, "regions", kctx, "kustomization.yaml")] = b
	}
	return out, nil
}
