package casskop

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"

	"github.com/ringops/ringops/schemas"
)

// tokenAllocation: Cassandra 4.0+ refuses a node joining a rack that has
// one already while its datacenter has more than one rack but fewer than
// allocate_tokens_for_local_replication_factor (3 in the official image);
// ringops refuses such a spec. CassKop's nodes got there (its
// FirstPodPerRack flow, or a config without the key); so that the next
// nodes join, the factor is set to the fewest racks of such a datacenter.
func (c *conv) tokenAllocation() {
	rf := c.spec.TokenAllocationRF()
	if rf <= 1 {
		return
	}
	fewest := 0
	var names []string
	for _, d := range c.spec.Spec.Datacenters {
		n := *c.spec.Spec.NodesPerRack
		if d.NodesPerRack != nil {
			n = *d.NodesPerRack
		}
		racks := len(d.Racks)
		if n <= 1 || racks <= 1 || racks >= rf || n == 0 {
			continue
		}
		names = append(names, fmt.Sprintf("%s (%d racks)", d.Name, racks))
		if fewest == 0 || racks < fewest {
			fewest = racks
		}
	}
	if fewest == 0 {
		return
	}
	if cfg := c.spec.Spec.Config; cfg != nil {
		if _, ok := cfg.CassandraYAML["allocate_tokens_for_local_replication_factor"]; ok {
			c.refuse("spec.config.cassandra-yaml.allocate_tokens_for_local_replication_factor",
				fmt.Sprintf("%d, more than the racks of %v: Cassandra refuses a node joining a rack that already has one there", rf, names),
				fmt.Sprintf("lower it to %d in the manifest", fewest))
			return
		}
	}
	if c.spec.Spec.Config == nil {
		c.spec.Spec.Config = &schemas.Config{}
	}
	if c.spec.Spec.Config.CassandraYAML == nil {
		c.spec.Spec.Config.CassandraYAML = map[string]any{}
	}
	c.spec.Spec.Config.CassandraYAML["allocate_tokens_for_local_replication_factor"] = fewest
	c.comment("spec.config.cassandra-yaml", "allocate_tokens_for_local_replication_factor: set by the import, see IMPORT.md")
	c.f.warn("spec.topology", fmt.Sprintf("%v: more than one node per rack and fewer racks than Cassandra 4.0+ allocates tokens for (%d): a new node of such a rack would not start; carried with config.cassandra-yaml.allocate_tokens_for_local_replication_factor: %d", names, rf, fewest),
		"keep it, or give those datacenters one rack or at least 3 (Cassandra reads the key only from 4.0; remove it for a 3.x image)")
}

// droppable are the map fields of the ringops spec whose entries ringops
// may refuse (a reserved key, an invalid name): the import leaves such an
// entry out, with a warning, rather than refusing the whole cluster.
func (c *conv) droppable() map[string]map[string]string {
	out := map[string]map[string]string{
		"metadata.labels": c.spec.Metadata.Labels,
		"spec.env":        c.spec.Spec.Env,
	}
	if p := c.spec.Spec.Pod; p != nil {
		out["spec.pod.annotations"] = p.Annotations
	}
	return out
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// fieldKey is schemas' path of key below parent.
func fieldKey(parent, key string) string {
	if len(key) > 64 || !plainKey.MatchString(key) {
		return parent + "[" + strconv.Quote(key) + "]"
	}
	return parent + "." + key
}

// fitted writes cluster.yaml, leaving out the entries ringops refuses;
// any other error of the spec is a refusal.
func (c *conv) fitted() ([]byte, bool) {
	file := path.Join("clusters", c.spec.Metadata.Name, schemas.SpecFile)
	for range 16 {
		y, err := clusterYAML(c.spec, c.comments, c.r)
		if err != nil {
			c.refuse("", err.Error(), "report this to ringops")
			return nil, false
		}
		_, err = schemas.Parse(file, y)
		if err == nil {
			return y, true
		}
		var list schemas.ErrorList
		if !errors.As(err, &list) {
			c.refuse("", err.Error(), "fix the manifest")
			return nil, false
		}
		dropped := false
		var rest []*schemas.FieldError
		for _, fe := range list {
			if c.drop(fe) {
				dropped = true
			} else {
				rest = append(rest, fe)
			}
		}
		if len(rest) > 0 || !dropped {
			for _, fe := range rest {
				c.refuse("", "it becomes "+fe.Field+" in ringops' spec: "+fe.Message, "fix the matching field of the manifest")
			}
			return nil, false
		}
	}
	c.refuse("", "too many fields ringops refuses", "fix the manifest")
	return nil, false
}

func (c *conv) drop(fe *schemas.FieldError) bool {
	for parent, m := range c.droppable() {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if fieldKey(parent, k) == fe.Field {
				delete(m, k)
				c.f.warn(fe.Field, "not carried: "+fe.Message, "")
				return true
			}
		}
	}
	return false
}
