package casskop

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/ringops/ringops/schemas"
)

// TestPropertyImportValidates: for generated CassKop specs (a
// CassandraCluster or a MultiCasskop of 1 to 3 regions; random
// topologies, node counts, overrides, storage, resources, config,
// affinity labels, annotations, env, security settings, both API
// versions), the import never refuses, ringops validate and render
// accept every file it writes, and the topology is the one CassKop ran:
// every datacenter in region order with its racks and node count.
//
// RINGOPS_IMPORT_CASES=5000 go test -run TestPropertyImportValidates ./importer/casskop
func TestPropertyImportValidates(t *testing.T) {
	cases := 25 // 0.2 s each: a case renders every region through kustomize
	if testing.Short() {
		cases = 8
	}
	if n := envInt("RINGOPS_IMPORT_CASES"); n > 0 {
		cases = n
	}
	for i := range cases {
		seed := uint64(i)
		g := &gen{r: rand.New(rand.NewPCG(seed, 20))}
		doc, want := g.manifest()
		data, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if want == nil {
			var n yaml.Node
			if err := yaml.Unmarshal(data, &n); err != nil {
				t.Fatal(err)
			}
			want = g.expected(doc, keysInOrder(&n, "spec", "override"))
		}
		res, err := Import([]Input{{Name: "gen.yaml", Data: data}}, DefaultOptions())
		if err != nil {
			t.Fatalf("seed %d: refused:\n%v\n%s", seed, err, data)
		}
		if err := validateRepository(res.Files); err != nil {
			t.Fatalf("seed %d: the output does not validate:\n%v\ninput:\n%s\noutput:\n%s", seed, err, data, dump(res.Files))
		}
		p := "clusters/" + res.Clusters[0] + "/cluster.yaml"
		c, err := schemas.Parse(p, res.Files[p])
		if err != nil {
			t.Fatal(err)
		}
		if got := topologyOf(c); got != *want {
			t.Fatalf("seed %d: topology\n got %s\nwant %s\ninput:\n%s", seed, got, *want, data)
		}
	}
}

func envInt(name string) int {
	var n int
	fmt.Sscan(strings.TrimSpace(getenv(name)), &n)
	return n
}

// topologyOf: "dc@context:rack=nodes,rack=nodes;..." of a ringops spec.
func topologyOf(c *schemas.CassandraCluster) string {
	var parts []string
	for _, d := range c.Spec.Datacenters {
		var racks []string
		for _, r := range d.Racks {
			racks = append(racks, fmt.Sprintf("%s=%d", r.Name, *r.Nodes))
		}
		parts = append(parts, d.Name+"@"+d.Context+":"+strings.Join(racks, ","))
	}
	return strings.Join(parts, ";")
}

// gen draws CassKop manifests.
type gen struct {
	r     *rand.Rand
	dcSeq int
}

func (g *gen) chance(p float64) bool    { return g.r.Float64() < p }
func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) name(n int) string {
	b := []byte{byte('a' + g.r.IntN(26))}
	for range g.r.IntN(n) {
		b = append(b, "abcdefghijklmnopqrstuvwxyz0123456789"[g.r.IntN(36)])
	}
	return string(b)
}

// manifest returns the manifest and the topology ringops must have (nil
// for a MultiCasskop: see expected).
func (g *gen) manifest() (map[string]any, *string) {
	version := groupV2
	if g.chance(0.2) {
		version = groupV1alpha1
	}
	name := g.name(9)
	meta := map[string]any{"name": name}
	if g.chance(0.5) {
		meta["namespace"] = g.name(8)
	}
	if g.chance(0.3) {
		meta["labels"] = g.labels(true)
	}
	if g.chance(0.5) {
		spec, want := g.spec(version, name, 1, "default")
		return map[string]any{"apiVersion": version, "kind": kindCassandraCluster, "metadata": meta, "spec": spec}, &want
	}
	base, _ := g.spec(version, name, 0, "")
	if g.chance(0.5) {
		base["topology"] = map[string]any{"dc": []any{g.dc(version, 1, true)}} // replaced by the overrides'
	}
	overrides := map[string]any{}
	for range 1 + g.r.IntN(3) {
		kctx := g.name(6) + "-" + g.name(3)
		if _, dup := overrides[kctx]; dup {
			continue
		}
		ov, _ := g.spec(version, name, 1+g.r.IntN(2), kctx)
		g.sparse(ov)
		overrides[kctx] = map[string]any{"spec": ov}
	}
	doc := map[string]any{"apiVersion": version, "kind": kindMultiCasskop, "metadata": map[string]any{"name": "m" + name},
		"spec": map[string]any{"base": map[string]any{"apiVersion": version, "kind": kindCassandraCluster, "metadata": meta, "spec": base},
			"override": overrides}}
	if g.chance(0.5) {
		doc["spec"].(map[string]any)["base"].(map[string]any)["status"] = map[string]any{"seedlist": []any{name + "-dc1-r1-0.ring.example.com"}}
	}
	return doc, nil
}

// expected recomputes the topology of a MultiCasskop as Multi-CassKop
// merges it, its overrides in the file's order.
func (g *gen) expected(doc map[string]any, order []string) *string {
	base := dig(doc, "spec", "base", "spec").(map[string]any)
	overrides := dig(doc, "spec", "override").(map[string]any)
	var parts []string
	for _, kctx := range order {
		ov := overrides[kctx].(map[string]any)["spec"].(map[string]any)
		global := 1
		for _, m := range []map[string]any{base, ov} {
			if n, ok := m["nodesPerRacks"].(int); ok && n > 0 {
				global = n
			}
		}
		topo := ov["topology"]
		if topo == nil {
			topo = base["topology"]
		}
		for _, d := range topo.(map[string]any)["dc"].([]any) {
			dm := d.(map[string]any)
			n := global
			if v, ok := dm["nodesPerRacks"].(int); ok {
				n = v
			}
			var racks []string
			for _, r := range dm["rack"].([]any) {
				racks = append(racks, fmt.Sprintf("%s=%d", r.(map[string]any)["name"], n))
			}
			parts = append(parts, fmt.Sprintf("%s@%s:%s", dm["name"], kctx, strings.Join(racks, ",")))
		}
	}
	s := strings.Join(parts, ";")
	return &s
}

// sparse drops some fields of an override (an override is partial).
func (g *gen) sparse(spec map[string]any) {
	for k := range spec {
		if k != "topology" && g.chance(0.6) {
			delete(spec, k)
		}
	}
}

// spec draws a CassandraCluster spec with dcs datacenters (none: no
// topology) in context kctx, and the topology ringops must have.
func (g *gen) spec(version, name string, dcs int, kctx string) (map[string]any, string) {
	s := map[string]any{"dataCapacity": fmt.Sprintf("%dGi", 1+g.r.IntN(100))}
	if g.chance(0.7) {
		s["cassandraImage"] = g.pick("cassandra:3.11.10", "cassandra:4.1.5", "cassandra:5.0.9", "cassandra", "registry.example.com/db/cassandra:4.0.12")
	}
	if g.chance(0.5) {
		s["imagepullpolicy"] = g.pick("Always", "IfNotPresent", "Never")
	}
	global := 1
	if g.chance(0.6) {
		global = 1 + g.r.IntN(4)
		s["nodesPerRacks"] = global
	}
	if g.chance(0.5) {
		s["dataStorageClass"] = g.pick("standard", "fast-ssd", "local-path")
	}
	if g.chance(0.6) {
		s["resources"] = g.resources()
	}
	if g.chance(0.5) {
		s["config"] = g.config(version)
	}
	for _, k := range []string{"hardAntiAffinity", "autoPilot", "deletePVC", "autoUpdateSeedList", "unlockNextOperation", "debug", "noCheckStsAreEqual"} {
		if g.chance(0.3) {
			s[k] = g.chance(0.5)
		}
	}
	if g.chance(0.3) {
		s["runAsUser"] = g.pick("999", "1000")
		s["runAsUser"] = 999 + g.r.IntN(2)
		s["fsGroup"] = g.r.IntN(2)
	}
	if g.chance(0.3) {
		s["imageJolokiaSecret"] = map[string]any{"name": g.name(8)}
	}
	if g.chance(0.2) {
		s["imagePullSecret"] = map[string]any{"name": g.name(8)}
	}
	if g.chance(0.4) {
		pod := map[string]any{"annotations": g.annotations()}
		if g.chance(0.5) {
			pod["tolerations"] = []any{map[string]any{"key": "dedicated", "operator": "Equal", "value": g.name(4), "effect": "NoSchedule"}}
		}
		s["pod"] = pod
	}
	if g.chance(0.3) {
		s["service"] = map[string]any{"annotations": map[string]any{"external-dns.alpha.kubernetes.io/hostname": g.name(6) + ".example.com."}}
	}
	if g.chance(0.2) {
		s["envVars"] = []any{map[string]any{"name": g.pick("TZ", "CASSANDRA_DC", "MY_VAR"), "value": g.name(4)}}
	}
	if g.chance(0.2) {
		s["keyspaceCleanupThreads"] = g.r.IntN(40)
	}
	if g.chance(0.2) {
		s["maxPodUnavailable"] = g.r.IntN(3)
	}
	if g.chance(0.1) {
		s["gcStdout"] = true
	}
	if dcs == 0 {
		return s, ""
	}
	var list []any
	var parts []string
	for i := range dcs {
		d := g.dc(version, i, i == 0)
		list = append(list, d)
		n := global
		if v, ok := d["nodesPerRacks"].(int); ok {
			n = v
		}
		var racks []string
		for _, r := range d["rack"].([]any) {
			racks = append(racks, fmt.Sprintf("%s=%d", r.(map[string]any)["name"], n))
		}
		parts = append(parts, fmt.Sprintf("%s@%s:%s", d["name"], kctx, strings.Join(racks, ",")))
	}
	s["topology"] = map[string]any{"dc": list}
	return s, strings.Join(parts, ";")
}

func (g *gen) dc(version string, _ int, first bool) map[string]any {
	g.dcSeq++
	d := map[string]any{"name": fmt.Sprintf("dc%d", g.dcSeq)}
	if g.chance(0.5) {
		lo := 0
		if first {
			lo = 1
		}
		d["nodesPerRacks"] = lo + g.r.IntN(4)
	}
	if g.chance(0.3) {
		d["labels"] = g.labels(false)
	}
	if g.chance(0.2) {
		d["dataCapacity"] = fmt.Sprintf("%dGi", 1+g.r.IntN(100))
	}
	if g.chance(0.2) {
		d["dataStorageClass"] = g.pick("standard", "zonal")
	}
	if g.chance(0.2) {
		d["resources"] = g.resources()
	}
	if g.chance(0.3) {
		if version == groupV1alpha1 {
			d["numTokens"] = g.pick("16", "256")
			d["numTokens"] = []int{16, 256}[g.r.IntN(2)]
		} else {
			d["config"] = g.config(version)
		}
	}
	var racks []any
	for i := range 1 + g.r.IntN(4) {
		rk := map[string]any{"name": fmt.Sprintf("r%d", i+1)}
		if g.chance(0.3) {
			rk["labels"] = g.labels(false)
		}
		if g.chance(0.1) {
			rk["rollingPartition"] = g.r.IntN(3)
		}
		racks = append(racks, rk)
	}
	d["rack"] = racks
	return d
}

func (g *gen) labels(reserved bool) map[string]any {
	l := map[string]any{}
	for range 1 + g.r.IntN(3) {
		l[g.pick("topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/region", "team", "location.physical/rack")] = g.name(6)
	}
	if reserved && g.chance(0.3) {
		l["app.kubernetes.io/managed-by"] = "casskop"
	}
	return l
}

func (g *gen) annotations() map[string]any {
	a := map[string]any{}
	for range 1 + g.r.IntN(3) {
		a[g.pick("cni.projectcalico.org/ipv4pools", "prometheus.io/scrape", "owner")] = g.name(6)
	}
	return a
}

func (g *gen) resources() map[string]any {
	mem := g.pick("512Mi", "1Gi", "2Gi", "8Gi")
	r := map[string]any{"requests": map[string]any{"cpu": g.pick("500m", "1", "2"), "memory": mem}}
	if g.chance(0.5) { // above any request: Kubernetes refuses a pod whose request is above its limit
		r["limits"] = map[string]any{"cpu": g.pick("4", "8"), "memory": g.pick("16Gi", "32Gi")}
	}
	return r
}

func (g *gen) config(version string) map[string]any {
	c := map[string]any{}
	if version == groupV1alpha1 {
		return c
	}
	y := map[string]any{}
	for range g.r.IntN(3) {
		switch g.r.IntN(4) {
		case 0:
			y["num_tokens"] = []int{16, 32, 256}[g.r.IntN(3)]
		case 1:
			y["concurrent_reads"] = []int{32, 64}[g.r.IntN(2)]
		case 2:
			y["auto_bootstrap"] = g.chance(0.5)
		case 3:
			y["authenticator"] = "PasswordAuthenticator"
		}
	}
	if len(y) > 0 {
		c["cassandra-yaml"] = y
	}
	if g.chance(0.3) {
		c["jvm-options"] = map[string]any{"max_heap_size": g.pick("1G", "512M"), "log_gc": "true"}
	}
	if g.chance(0.1) {
		c["logback-xml"] = map[string]any{"debuglog-enabled": false}
	}
	return c
}

var getenv = os.Getenv
