package casskop

import (
	"errors"
	"strings"
	"testing"

	"github.com/ringops/ringops/schemas"
)

func importOne(t *testing.T, manifest string) (*Result, error) {
	t.Helper()
	return Import([]Input{{Name: "in.yaml", Data: []byte(manifest)}}, DefaultOptions())
}

func mustImport(t *testing.T, manifest string) (*Result, *schemas.CassandraCluster) {
	t.Helper()
	res, err := importOne(t, manifest)
	if err != nil {
		t.Fatalf("refused:\n%v", err)
	}
	checkRepository(t, res.Files)
	if len(res.Clusters) != 1 {
		t.Fatalf("clusters %v, want one", res.Clusters)
	}
	p := "clusters/" + res.Clusters[0] + "/cluster.yaml"
	c, err := schemas.Parse(p, res.Files[p])
	if err != nil {
		t.Fatal(err)
	}
	return res, c
}

func finding(res *Result, field string) *Finding {
	for i, f := range res.Findings {
		if f.Field == field {
			return &res.Findings[i]
		}
	}
	return nil
}

const minimal = `apiVersion: db.orange.com/v2
kind: CassandraCluster
metadata: {name: orders, namespace: db}
spec:
  cassandraImage: cassandra:4.1.5
  imagepullpolicy: IfNotPresent
  dataCapacity: 10Gi
  autoPilot: true
  topology:
    dc:
      - name: dc1
        rack: [{name: r1}, {name: r2}, {name: r3}]
`

// A CassandraCluster with nothing ringops lacks imports without a warning
// (the exit status 0 of ringops import).
func TestImportAllCarried(t *testing.T) {
	res, c := mustImport(t, minimal)
	if n := res.Warnings(); n != 0 {
		t.Fatalf("%d warnings, want 0:\n%s", n, findingsText(res))
	}
	dc := c.Spec.Datacenters[0]
	if c.Metadata.Namespace != "db" || dc.Context != "default" || len(dc.Racks) != 3 || c.Spec.Image != "cassandra:4.1.5" || c.Spec.ImagePullPolicy != "IfNotPresent" {
		t.Fatalf("spec: %+v", c)
	}
	if !c.Spec.Storage.DeleteOnDecommission || c.Spec.Storage.Size != "10Gi" {
		t.Fatalf("storage: %+v", c.Spec.Storage)
	}
}

func TestImportRefusals(t *testing.T) {
	multi := func(overrides string) string {
		return "apiVersion: db.orange.com/v2\nkind: MultiCasskop\nmetadata: {name: m}\nspec:\n  base:\n    apiVersion: db.orange.com/v2\n    kind: CassandraCluster\n" +
			"    metadata: {name: orders}\n    spec: {dataCapacity: 1Gi}\n  override:\n" + overrides
	}
	for _, tc := range []struct {
		name, in, field, want string
	}{
		{"not yaml", "kind: [", "", "not YAML"},
		{"no casskop object", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n", "", "no CassandraCluster nor MultiCasskop"},
		{"another group", "apiVersion: example.com/v1\nkind: CassandraCluster\nmetadata: {name: x}\n", "apiVersion", "not CassKop's"},
		{"no name", "apiVersion: db.orange.com/v2\nkind: CassandraCluster\nmetadata: {}\nspec: {dataCapacity: 1Gi}\n", "metadata.name", "missing"},
		{"no volume", strings.Replace(minimal, "  dataCapacity: 10Gi\n", "", 1), "spec.topology.dc[0].dataCapacity", "without a persistent volume"},
		{"dse", strings.Replace(minimal, "autoPilot: true", "serverType: dse", 1), "spec.serverType", "Apache Cassandra only"},
		{"wrong type", strings.Replace(minimal, "dataCapacity: 10Gi", "dataCapacity: 10Gi\n  nodesPerRacks: three", 1), "spec.nodesPerRacks", "where CassKop's CRD has a integer"},
		{"bad dc name", strings.Replace(minimal, "name: dc1", "name: DC_1", 1), "", "spec.datacenters[0].name"},
		{"dc twice", multi("    a: {spec: {topology: {dc: [{name: dc1, rack: [{name: r1}]}]}}}\n    b: {spec: {topology: {dc: [{name: dc1, rack: [{name: r1}]}]}}}\n"),
			"spec.override.b.spec.topology.dc[0].name", "also the datacenter of a"},
		{"name in override", multi("    a: {spec: {}}\n    b: {metadata: {name: other}}\n"), "spec.override.b.metadata.name", "one ring has one name"},
		{"no override", multi("    {}\n"), "spec.override", "no kube cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := importOne(t, tc.in)
			var re *RefusedError
			if !errors.As(err, &re) {
				t.Fatalf("not refused: %v %v", res, err)
			}
			if res != nil {
				t.Fatal("a refused import returned files")
			}
			for _, r := range re.Refusals {
				if r.File == "in.yaml" && r.Field == tc.field && strings.Contains(r.String(), tc.want) && r.Fix != "" {
					return
				}
			}
			t.Fatalf("want a refusal of in.yaml, field %q, saying %q, with a fix; got:\n%v", tc.field, tc.want, err)
		})
	}
}

// Multi-CassKop merges an override as mergo.WithOverride does: mappings
// key by key, lists replaced, a false or 0 that is not a pointer leaves
// the base's value.
func TestImportMergesAsMultiCasskop(t *testing.T) {
	in := `apiVersion: db.orange.com/v2
kind: MultiCasskop
metadata: {name: m, namespace: db}
spec:
  base:
    apiVersion: db.orange.com/v2
    kind: CassandraCluster
    metadata: {name: orders}
    spec:
      cassandraImage: cassandra:4.1.5
      dataCapacity: 10Gi
      dataStorageClass: std
      hardAntiAffinity: true
      autoPilot: true
      pod: {annotations: {a: "1", b: "1"}}
      topology: {dc: [{name: base, rack: [{name: r1}]}]}
  override:
    west:
      spec:
        hardAntiAffinity: false
        pod: {annotations: {b: "2"}}
        topology: {dc: [{name: dc1, rack: [{name: r1}]}]}
    east:
      spec:
        dataStorageClass: fast
        topology: {dc: [{name: dc2, nodesPerRacks: 2, rack: [{name: r1}]}]}
`
	res, c := mustImport(t, in)
	if !c.Spec.Pod.HardAntiAffinity {
		t.Error("hardAntiAffinity: false in an override replaced the base's true; mergo keeps it")
	}
	if got := c.Spec.Pod.Annotations; len(got) != 1 || got["a"] != "1" {
		t.Errorf("cluster pod annotations %v, want only the one every region has, a: 1", got)
	}
	var names []string
	for _, d := range c.Spec.Datacenters {
		names = append(names, d.Name+"@"+d.Context)
	}
	if strings.Join(names, ",") != "dc1@west,dc2@east" {
		t.Errorf("datacenters %v: the overrides' topologies replace the base's, in the overrides' order", names)
	}
	if c.Spec.Datacenters[1].NodesPerRack == nil || *c.Spec.Datacenters[1].NodesPerRack != 2 {
		t.Error("dc2's nodesPerRacks not carried")
	}
	west := string(res.Files["clusters/orders/regions/west/kustomization.yaml"])
	east := string(res.Files["clusters/orders/regions/east/kustomization.yaml"])
	if !strings.Contains(west, "b: \"2\"") || !strings.Contains(east, "b: \"1\"") || strings.Contains(east, "b: \"2\"") {
		t.Errorf("west's annotation b: 2 (its override's) and east's b: 1 (the base's) belong in their Components:\nwest:\n%s\neast:\n%s", west, east)
	}
	if !strings.Contains(east, "value: fast") || strings.Contains(west, "value: fast") {
		t.Errorf("east's storage class belongs in east's Component:\n%s", east)
	}
	if c.Spec.Storage.StorageClassName != "std" {
		t.Errorf("storage class %q, want the seed region's std", c.Spec.Storage.StorageClassName)
	}
}

// v1alpha1's numTokens is carried; in a v2 manifest the API server pruned
// it, so it is reported and not carried.
func TestImportNumTokens(t *testing.T) {
	in := strings.Replace(strings.Replace(minimal, "db.orange.com/v2", "db.orange.com/v1alpha1", 1), "- name: dc1", "- name: dc1\n        numTokens: 32", 1)
	_, c := mustImport(t, in)
	if got := c.Spec.Config.CassandraYAML["num_tokens"]; got != 32 {
		t.Errorf("v1alpha1 num_tokens %v, want 32", got)
	}
	res, c := mustImport(t, strings.Replace(minimal, "- name: dc1", "- name: dc1\n        numTokens: 32", 1))
	if c.Spec.Config != nil && c.Spec.Config.CassandraYAML["num_tokens"] != nil {
		t.Error("v2 numTokens carried; the API server prunes it")
	}
	if f := finding(res, "spec.topology.dc[0].numTokens"); f == nil || f.Severity != Warning {
		t.Errorf("v2 numTokens not reported:\n%s", findingsText(res))
	}
}

// A cassandra.yaml key the datacenters set differently is not carried
// (ringops has one configuration), and said so; one they agree on is.
func TestImportConfigPerDatacenter(t *testing.T) {
	in := strings.Replace(minimal, "        rack: [{name: r1}, {name: r2}, {name: r3}]\n",
		"        config: {cassandra-yaml: {num_tokens: 16, concurrent_reads: 64}}\n        rack: [{name: r1}, {name: r2}, {name: r3}]\n"+
			"      - name: dc2\n        config: {cassandra-yaml: {num_tokens: 16, concurrent_reads: 32}}\n        rack: [{name: r1}]\n", 1)
	res, c := mustImport(t, in)
	if c.Spec.Config.CassandraYAML["num_tokens"] != 16 {
		t.Error("num_tokens, the same everywhere, not carried")
	}
	if _, ok := c.Spec.Config.CassandraYAML["concurrent_reads"]; ok {
		t.Error("concurrent_reads differs between datacenters and was carried")
	}
	if f := finding(res, "config.cassandra-yaml.concurrent_reads"); f == nil || f.Severity != Warning || !strings.Contains(f.What, "dc1/r1: 64") {
		t.Errorf("the difference is not reported:\n%s", findingsText(res))
	}
}

// Two racks of two nodes on Cassandra 4.1: CassKop's ring runs, ringops
// would refuse the spec; the import carries the token allocation factor
// that lets the next node join, and says so.
func TestImportTokenAllocation(t *testing.T) {
	in := strings.Replace(minimal, "rack: [{name: r1}, {name: r2}, {name: r3}]", "nodesPerRacks: 2\n        rack: [{name: r1}, {name: r2}]", 1)
	res, c := mustImport(t, in)
	if got := c.Spec.Config.CassandraYAML["allocate_tokens_for_local_replication_factor"]; got != 2 {
		t.Fatalf("allocate_tokens_for_local_replication_factor %v, want 2", got)
	}
	if f := finding(res, "spec.topology"); f == nil || f.Severity != Warning {
		t.Errorf("not reported:\n%s", findingsText(res))
	}
}

// An entry ringops refuses (a reserved label, a variable it sets) is left
// out with a warning; the rest of the cluster is imported.
func TestImportDropsReservedEntries(t *testing.T) {
	in := strings.Replace(minimal, "metadata: {name: orders, namespace: db}", "metadata: {name: orders, namespace: db, labels: {team: a, app.kubernetes.io/managed-by: casskop}}", 1)
	in = strings.Replace(in, "autoPilot: true", "autoPilot: true\n  envVars: [{name: CASSANDRA_DC, value: x}, {name: TZ, value: UTC}]", 1)
	res, c := mustImport(t, in)
	if c.Metadata.Labels["team"] != "a" || len(c.Metadata.Labels) != 1 {
		t.Errorf("labels %v, want team: a only", c.Metadata.Labels)
	}
	if c.Spec.Env["TZ"] != "UTC" || len(c.Spec.Env) != 1 {
		t.Errorf("env %v, want TZ only", c.Spec.Env)
	}
	if res.Warnings() != 2 {
		t.Errorf("%d warnings, want 2:\n%s", res.Warnings(), findingsText(res))
	}
}

// A CassKop operator Deployment among the inputs is named in every
// cluster's report: running, a warning with how to stop it.
func TestImportNamesRunningOperator(t *testing.T) {
	dep := "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: casskop, namespace: db}\n" +
		"spec: {replicas: 1, template: {spec: {containers: [{name: casskop, image: orangeopensource/casskop:v2.1.0}]}}}\n"
	res, err := Import([]Input{{Name: "in.yaml", Data: []byte(minimal)}, {Name: "operator.yaml", Data: []byte(dep)}}, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var found *Finding
	for i, f := range res.Findings {
		if f.Object == "Deployment db/casskop" {
			found = &res.Findings[i]
		}
	}
	if found == nil || found.Severity != Warning || !strings.Contains(found.Action, "kubectl -n db scale deployment casskop --replicas=0") {
		t.Fatalf("the running operator is not reported with how to stop it:\n%s", findingsText(res))
	}
	if !strings.Contains(string(res.Files["clusters/orders/IMPORT.md"]), "Deployment db/casskop") {
		t.Error("IMPORT.md does not name the operator")
	}
	res, err = Import([]Input{{Name: "in.yaml", Data: []byte(minimal)}, {Name: "operator.yaml", Data: []byte(strings.Replace(dep, "replicas: 1", "replicas: 0", 1))}}, DefaultOptions())
	if err != nil || res.Warnings() != 0 {
		t.Fatalf("an operator scaled to 0 is no warning: %v\n%s", err, findingsText(res))
	}
}

// Two rings of one name (the samples are all cassandra-demo) cannot share
// a repository: refused, naming both files.
func TestImportRefusesOneNameTwice(t *testing.T) {
	a, b := readFile(t, "testdata/samples/cc-local.yaml"), readFile(t, "testdata/samples/cassandracluster.yaml")
	_, err := Import([]Input{{Name: "a.yaml", Data: a}, {Name: "b.yaml", Data: b}}, DefaultOptions())
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "b.yaml: metadata.name: \"cassandra-demo\" is also the name of the cluster of a.yaml") {
		t.Fatalf("want a refusal naming both files, got %v", err)
	}
}
