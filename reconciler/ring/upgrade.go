package ring

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// UpgradeSkew reports whether the only thing wrong with a verdict is the
// schema disagreement of a rolling upgrade across Cassandra release series
// (4.1 to 5.0, 3.11 to 4.x): a node on the new series reports a new schema
// version until every node runs it (5.0.1 NEWS.txt: "upgraded node will be
// on a new schema version. Please do a rolling upgrade of nodes of a
// cluster to converge to one schema version"). It holds when
//
//   - every reason of res is a SchemaDisagreement (nothing down, joining,
//     leaving, unknown; every expected node answered);
//   - the nodes run exactly two release series (major.minor of their
//     ReleaseVersion), and
//   - the schema versions are grouped by series: every node of a series
//     reports the same version, and the two versions differ.
//
// The skew is then said in words, for messages: "4.1.5 on 3 nodes (schema
// 1a2b3c4d), 5.0.1 on 2 nodes (schema 5e6f7a8b)". A disagreement among the
// nodes of one series, or between nodes of one release series, is no skew.
// It is a pure function of its arguments.
func UpgradeSkew(s *Snapshot, res Result) (string, bool) {
	if res.Healthy || s == nil || len(res.Reasons) == 0 {
		return "", false
	}
	for _, r := range res.Reasons {
		if r.Kind != SchemaDisagreement {
			return "", false
		}
	}
	type group struct {
		releases []string
		schema   string
		nodes    int
	}
	groups := map[string]*group{} // series -> nodes on it
	for _, e := range s.Entries {
		if e.View == nil || e.Err != nil {
			continue
		}
		major, minor, err := ReleaseSeries(e.View.ReleaseVersion)
		schema := OwnSchemaVersion(e.View)
		if err != nil || schema == "" {
			return "", false
		}
		key := fmt.Sprintf("%d.%d", major, minor)
		g := groups[key]
		if g == nil {
			g = &group{schema: schema}
			groups[key] = g
		}
		if g.schema != schema {
			return "", false
		}
		g.nodes++
		if !slices.Contains(g.releases, e.View.ReleaseVersion) {
			g.releases = append(g.releases, e.View.ReleaseVersion)
		}
	}
	if len(groups) != 2 {
		return "", false
	}
	var parts, schemas []string
	for _, key := range sortedSeries(groups) {
		g := groups[key]
		slices.Sort(g.releases)
		schemas = append(schemas, g.schema)
		parts = append(parts, fmt.Sprintf("%s on %s (schema %s)", strings.Join(g.releases, ", "), plural(g.nodes, "node"), shortID(g.schema)))
	}
	if schemas[0] == schemas[1] {
		return "", false
	}
	return strings.Join(parts, ", "), true
}

// OwnSchemaVersion is the schema version a node reports for itself
// (StorageService.SchemaVersion, read with its view).
func OwnSchemaVersion(v *View) string {
	return v.SchemaVersion
}

func sortedSeries[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		am, an, _ := ReleaseSeries(a)
		bm, bn, _ := ReleaseSeries(b)
		if am != bm {
			return am - bm
		}
		return an - bn
	})
	return keys
}

// shortID is the first block of a UUID, for messages.
func shortID(id string) string {
	if head, _, ok := strings.Cut(id, "-"); ok {
		return head
	}
	return id
}

// ErrUnknownVersion: a ReleaseVersion cannot be parsed (so, for a node
// operation, its signature is unknown).
var ErrUnknownVersion = errors.New("unknown Cassandra release version")

// ReleaseMajor is the major version of a ReleaseVersion such as "4.1.5",
// "3.11.17" or "5.0-rc1".
func ReleaseMajor(release string) (int, error) {
	major, _, err := ReleaseSeries(release)
	return major, err
}

// ReleaseSeries is the major and minor version of a ReleaseVersion: 4 and 1
// for "4.1.5", 3 and 11 for "3.11.17", 5 and 0 for "5.0-rc1". A missing
// minor is 0.
func ReleaseSeries(release string) (major, minor int, err error) {
	parts := strings.SplitN(strings.TrimSpace(release), ".", 3)
	major, err = strconv.Atoi(parts[0])
	if err != nil || major <= 0 {
		return 0, 0, fmt.Errorf("%w: %q", ErrUnknownVersion, release)
	}
	if len(parts) > 1 {
		digits := parts[1]
		if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			digits = digits[:i]
		}
		if minor, err = strconv.Atoi(digits); err != nil {
			return 0, 0, fmt.Errorf("%w: %q", ErrUnknownVersion, release)
		}
	}
	return major, minor, nil
}
