// Package casskop converts CassKop's CassandraCluster (db.orange.com/v2,
// and v1alpha1 where it differs) and MultiCassKop's MultiCasskop
// manifests, with the ConfigMaps they reference, into a ringops
// repository: clusters/<name>/cluster.yaml, a kustomize Component per
// region (clusters/<name>/regions/<context>/kustomization.yaml) for what
// is regional, and clusters/<name>/IMPORT.md, the report of every field
// not carried or carried differently, each with what to do.
//
// It is pure: Import takes the manifests' bytes and returns the files'
// bytes and the findings; reading files, the API servers and writing the
// output are the caller's (cmd/ringops import).
//
// The way through:
//
//	documents (YAML, every file) -> objects (CassandraCluster, MultiCasskop,
//	ConfigMap; the rest noted) -> per cluster, one effective CassKop spec
//	per kube context (a MultiCasskop's base with each override merged as
//	Multi-CassKop merges it: maps key by key, lists and set values
//	replaced) -> one ringops spec (datacenters in context order, the first
//	context's the seed) and one Component per context -> files.
//
// A manifest ringops cannot run as it is (no data volume, DSE, names that
// are not DNS labels, two rings of one name) is refused: Import returns a
// *RefusedError naming the file, the field and the fix, and no file.
package casskop
