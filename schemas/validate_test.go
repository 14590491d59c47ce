package schemas

import (
	"strings"
	"testing"
)

// cluster builds a valid cluster in code (no file positions): one
// datacenter per name, with the given racks each.
func cluster(name string, dcs map[string][]string, order ...string) *CassandraCluster {
	c := &CassandraCluster{APIVersion: APIVersion, Kind: Kind, Metadata: ObjectMeta{Name: name}}
	c.Spec.Image = "cassandra:4.1.5"
	c.Spec.Storage.Size = "10Gi"
	for _, dc := range order {
		d := Datacenter{Name: dc, Context: "ctx"}
		for _, r := range dcs[dc] {
			d.Racks = append(d.Racks, Rack{Name: r})
		}
		c.Spec.Datacenters = append(c.Spec.Datacenters, d)
	}
	c.Default()
	return c
}

func TestValidateStatefulSetNameLimit(t *testing.T) {
	// "c-" + dc + "-" + rack: 2 + 24 + 1 + 25 = 52.
	dc, rack := strings.Repeat("d", 24), strings.Repeat("r", 25)
	if errs := cluster("c", map[string][]string{dc: {rack}}, dc).Validate(); len(errs) > 0 {
		t.Errorf("a 52-character StatefulSet name is allowed: %v", errs)
	}
	errs := cluster("c", map[string][]string{dc: {rack + "x"}}, dc).Validate()
	want := "spec.datacenters[0].racks[0].name: StatefulSet name \"c-" + dc + "-" + rack + "x\" is 53 characters, 1 over the limit of 52"
	if len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), want) {
		t.Errorf("53 characters: got %v\nwant one error starting %q", errs, want)
	}
}

func TestValidateStatefulSetNameCollision(t *testing.T) {
	c := cluster("o", map[string][]string{"a-b": {"c"}, "a": {"b-c", "d"}}, "a-b", "a")
	errs := c.Validate()
	want := `spec.datacenters[1].racks[0].name: StatefulSet name "o-a-b-c" is also produced by datacenter "a-b" rack "c" (spec.datacenters[0].racks[0]); rename this datacenter or rack`
	if errs.Error() != want {
		t.Errorf("got %v\nwant %s", errs, want)
	}
}

func TestValidateReplicationFactorBoundary(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1", "r2", "r3"}}, "dc1")
	c.Spec.Datacenters[0].ReplicationFactor = ptr(int32(3))
	if errs := c.Validate(); len(errs) > 0 {
		t.Errorf("3 nodes for replicationFactor 3 is enough: %v", errs)
	}
	c.Spec.Datacenters[0].Racks[2].Nodes = ptr(int32(0))
	errs := c.Validate()
	if len(errs) != 1 || !strings.Contains(errs[0].Message, "first ALTER KEYSPACE") {
		t.Errorf("2 nodes for replicationFactor 3: %v", errs)
	}
}

func TestValidateWithoutFileHasNoPositions(t *testing.T) {
	c := cluster("Bad", map[string][]string{"dc1": {"r1"}}, "dc1")
	errs := c.Validate()
	if len(errs) == 0 {
		t.Fatal("want an error for metadata.name")
	}
	if e := errs[0]; e.File != "" || e.Line != 0 || !strings.HasPrefix(e.Error(), "metadata.name: ") {
		t.Errorf("error of a cluster built in code: %+v", e)
	}
}

func TestValidateImageReferences(t *testing.T) {
	digest := "@sha256:" + strings.Repeat("a", 64)
	for ref, ok := range map[string]bool{
		"cassandra":                                   true,
		"cassandra:4.1.5":                             true,
		"library/cassandra:4.1":                       true,
		"docker.io/library/cassandra:4.1.5":           true,
		"localhost:5000/cassandra":                    true,
		"registry.example.com:5000/a/b/c:v1" + digest: true,
		"cassandra" + digest:                          true,
		"[::1]:5000/cassandra:4":                      true,
		"Cassandra:4.1":                               false,
		"cassandra:":                                  false,
		"cassandra:4.1 ":                              false,
		"cassandra@sha256:abc":                        false,
		"cassandra:" + strings.Repeat("t", 129):       false,
		"-cassandra":                                  false,
		"cassandra//x":                                false,
		"https://docker.io/cassandra":                 false,
	} {
		v := &validator{c: &CassandraCluster{}}
		v.image("spec.image", ref, true)
		if got := len(v.errs) == 0; got != ok {
			t.Errorf("image %q: valid = %v, want %v (%v)", ref, got, ok, v.errs)
		}
	}
}

func TestValidateIsStableUnderDefault(t *testing.T) {
	c, err := Parse("c.yaml", []byte(exampleSpec))
	if err != nil {
		t.Fatal(err)
	}
	c.Default()
	if errs := c.Validate(); len(errs) > 0 {
		t.Errorf("Default twice broke a valid spec: %v", errs)
	}
}

// TestValidateAutoBootstrap: auto_bootstrap may only be true (Cassandra's
// default), in cassandra-yaml, in the JVM options or in spec.env; the
// refusals and their positions are in testdata/invalid/auto-bootstrap.
func TestValidateAutoBootstrap(t *testing.T) {
	c := cluster("o", map[string][]string{"dc1": {"r1"}}, "dc1")
	c.Spec.Config = &Config{CassandraYAML: map[string]any{"auto_bootstrap": true},
		JVMOptions: []string{"-Dcassandra.auto_bootstrap=TRUE", "-Dcassandra.auto_bootstrap_other=false"}}
	c.Spec.Env = map[string]string{"JVM_OPTS": "-Xss1m -Dcassandra.auto_bootstrap=true"}
	if errs := c.Validate(); len(errs) > 0 {
		t.Errorf("auto_bootstrap true is Cassandra's default: %v", errs)
	}
	c.Spec.Config.CassandraYAML["auto_bootstrap"] = "no"
	c.Spec.Env["JVM_EXTRA_OPTS"] = "-Xss1m -Dcassandra.auto_bootstrap=0"
	errs := c.Validate()
	if len(errs) != 2 || errs[0].Field != "spec.config.cassandra-yaml.auto_bootstrap" || errs[1].Field != "spec.env.JVM_EXTRA_OPTS" ||
		!strings.Contains(errs[1].Message, "-Dcassandra.auto_bootstrap=0 turns bootstrap off") {
		t.Errorf("auto_bootstrap \"no\" and -Dcassandra.auto_bootstrap=0: got %v", errs)
	}
}

// TestJolokiaAgentImage: the agent is injected by default; "none" says the
// image runs its own and is kept as written.
func TestJolokiaAgentImage(t *testing.T) {
	c := cluster("orders", map[string][]string{"dc1": {"r1"}}, "dc1")
	if got := c.Spec.Jolokia.AgentImage; got != DefaultJolokiaAgentImage {
		t.Errorf("default agentImage %q, want %q", got, DefaultJolokiaAgentImage)
	}
	for ref, ok := range map[string]bool{JolokiaAgentNone: true, "ghcr.io/example/jolokia:1.7.2": true, "None": false, "none:": false} {
		c.Spec.Jolokia.AgentImage = ref
		c.Default()
		errs := c.Validate()
		if (len(errs) == 0) != ok || c.Spec.Jolokia.AgentImage != ref {
			t.Errorf("agentImage %q: errors %v, kept %q; want valid = %v", ref, errs, c.Spec.Jolokia.AgentImage, ok)
		}
	}
}
