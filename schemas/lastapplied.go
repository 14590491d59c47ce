package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
)

// ErrLastApplied: a recorded last-applied spec (DecodeLastApplied) cannot
// be read.
var ErrLastApplied = errors.New("unreadable last-applied spec")

// maxLastApplied bounds a recorded spec: a change basis at the bounds
// (256 racks) is about 16 KiB; annotations may hold 256 KiB in all.
const maxLastApplied = 256 << 10

// ChangeBasis returns what ValidateChange and ChangeWarnings read of the
// previous spec, and nothing else, from a defaulted spec: the identity
// (name, namespace, Cassandra cluster name), the image's release series
// (cassandra:4.1 for cassandra:4.1.5: a patch release changes nothing
// recorded), the storage, num_tokens, the
// datacenters' names, contexts and racks with their node counts, and the
// managed keyspaces (spec.keyspaces, and systemKeyspaces unless it is the
// default), and the CQL authentication the nodes run (CQLAuthentication,
// always written). It is what ringops
// records in the clusters (EncodeLastApplied), so that a restarted daemon
// and `ringops apply` validate a change against what was rolled out.
func (c *CassandraCluster) ChangeBasis() *CassandraCluster {
	b := &CassandraCluster{APIVersion: c.APIVersion, Kind: c.Kind,
		Metadata: ObjectMeta{Name: c.Metadata.Name, Namespace: c.Metadata.Namespace}}
	s := &b.Spec
	s.CassandraClusterName = c.Spec.CassandraClusterName
	s.Image = seriesImage(c.Spec.Image)
	s.Storage = Storage{Size: c.Spec.Storage.Size, StorageClassName: c.Spec.Storage.StorageClassName}
	if t := numTokens(c); t != nil {
		s.Config = &Config{CassandraYAML: map[string]any{"num_tokens": t}}
	}
	for _, dc := range c.Spec.Datacenters {
		d := Datacenter{Name: dc.Name, Context: dc.Context, NodesPerRack: dc.NodesPerRack}
		for _, r := range dc.Racks {
			d.Racks = append(d.Racks, Rack{Name: r.Name, Nodes: r.Nodes})
		}
		s.Datacenters = append(s.Datacenters, d)
	}
	for _, k := range c.Spec.Keyspaces {
		s.Keyspaces = append(s.Keyspaces, Keyspace{Name: k.Name, Replication: maps.Clone(k.Replication)})
	}
	s.CQL = &CQL{Authentication: c.CQLAuthentication()}
	if c.Spec.SystemKeyspaces != DefaultSystemKeyspaces {
		s.SystemKeyspaces = c.Spec.SystemKeyspaces // the default is left out, as Default puts it back
	}
	return b
}

// EncodeLastApplied encodes the change basis of a defaulted spec for an
// annotation, as indented JSON: deterministic, readable in `kubectl get -o
// yaml` and in the diffs of `ringops plan` (a change shows as the lines
// it changes), and small (tens of kilobytes at the bounds, so not
// compressed).
func EncodeLastApplied(c *CassandraCluster) string {
	data, err := json.MarshalIndent(c.ChangeBasis(), "", " ")
	if err != nil { // strings, counts and num_tokens from YAML: always marshal
		panic(fmt.Sprintf("schemas: last-applied spec: %v", err))
	}
	return string(data)
}

// DecodeLastApplied reads what EncodeLastApplied wrote: a defaulted change
// basis, fit as ValidateChange's previous spec. Errors match
// ErrLastApplied.
func DecodeLastApplied(s string) (*CassandraCluster, error) {
	if len(s) > maxLastApplied {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrLastApplied, len(s), maxLastApplied)
	}
	data := []byte(s)
	c := &CassandraCluster{}
	if err := json.Unmarshal(data, c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrLastApplied, err)
	}
	if c.APIVersion != APIVersion || c.Kind != Kind || c.Metadata.Name == "" {
		return nil, fmt.Errorf("%w: not a %s %s", ErrLastApplied, APIVersion, Kind)
	}
	if c.Spec.CQL == nil || c.Spec.CQL.Authentication == "" {
		// Recorded before spec.cql.authentication existed: the nodes were
		// rolled out with the image's AllowAllAuthenticator (or with a
		// cassandra-yaml authenticator the record did not keep; the
		// change then has to say so).
		c.Spec.CQL = &CQL{Authentication: CQLAuthNone}
	}
	c.Default()
	return c, nil
}
