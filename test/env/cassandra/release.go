package cassandra

import (
	"strconv"
	"strings"
)

// A node runs one Cassandra release (NodeConfig.ReleaseVersion, else
// Options.ReleaseVersion, set at Start); a ring may run several during a
// rolling upgrade. What differs between releases here:
//
//   - the MBean surface, by the node's Version (version.go; 3.x:
//     decommission(), no ...WithPort attributes, no OldVersionSSTableCount
//     gauge before 4.0; 5.0: no HostIdMap);
//   - decommission and bootstrap failures (decommission.go, operations.go);
//   - the schema version: a node of another release series (major.minor)
//     than the ring's first reports another schema version, as Cassandra
//     5.0 does until every node runs it (5.0.1 NEWS.txt: "upgraded node
//     will be on a new schema version. Please do a rolling upgrade of nodes
//     of a cluster to converge to one schema version"); once every node
//     runs the new series they all report its version;
//   - the sstable format it writes (sstableFormat): a node restarted on a
//     release that writes a newer one holds old sstables until
//     upgradeSSTables rewrites them.

// series is the major and minor version of a release ("4.1.5": 4, 1).
func series(release string) (major, minor int) {
	parts := strings.SplitN(release, ".", 3)
	major, _ = strconv.Atoi(parts[0])
	if len(parts) > 1 {
		digits := parts[1]
		if i := strings.IndexFunc(digits, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
			digits = digits[:i]
		}
		minor, _ = strconv.Atoi(digits)
	}
	return major, minor
}

// retriesLeaving reports whether the node takes a decommission on a
// LEAVING node: 3.10 and later (CASSANDRA-12008; 3.11.17
// StorageService.java:4197-4198, 4.1.7 :4972, 5.0.1 :5264).
func (n *Node) retriesLeaving() bool {
	major, minor := series(n.cfg.ReleaseVersion)
	return major > 3 || (major == 3 && minor >= 10)
}

// schemaKey names the schema version the node reports: its cluster's,
// per release series when the series is not the Sim's.
func (n *Node) schemaKey() string {
	maj, mn := series(n.cfg.ReleaseVersion)
	dmaj, dmn := series(n.sim.opts.ReleaseVersion)
	if maj == dmaj && mn == dmn {
		return n.cfg.ClusterName
	}
	return n.cfg.ClusterName + " " + strconv.Itoa(maj) + "." + strconv.Itoa(mn)
}

// sstableFormat is the BigFormat version a release writes: "me" for 3.11
// (3.11.17 BigFormat.java:113), "nb" for 4.0 and 4.1 (4.0.14 :115, 4.1.7
// :124) and for 5.0 in its default storage_compatibility_mode CASSANDRA_4
// (5.0.1 BigFormat.java:340, conf/cassandra.yaml:2229).
func sstableFormat(release string) string {
	if major, _ := series(release); major < 4 {
		return "me"
	}
	return "nb"
}

// oldSSTablesPerKeyspace is how many sstables of each keyspace a node
// holds on the old format after a restart on a release that writes a newer
// one.
const oldSSTablesPerKeyspace = 2

// upgradeFormat records, at the node's start, the format its release
// writes; a newer one than its data's leaves every keyspace with old
// sstables (mu held).
func (n *Node) upgradeFormat() {
	d, f := n.disk, sstableFormat(n.cfg.ReleaseVersion)
	if d.format != "" && d.format < f {
		if d.old == nil {
			d.old = map[string]int{}
		}
		for _, ks := range n.sim.keyspaceNames() {
			d.old[ks] += oldSSTablesPerKeyspace
		}
	}
	d.format = f
}

// oldSSTables is the node's count of sstables on an older format (mu held).
func (n *Node) oldSSTables() int64 {
	var sum int64
	for _, c := range n.disk.old {
		sum += int64(c)
	}
	return sum
}

// ReleaseOfImage is the Cassandra release an image's tag names:
// "cassandra:5.0.1" and "cassandra:4.1.5-jammy" give "5.0.1" and "4.1.5";
// a tag that names no version ("latest", a digest) gives "" (the Sim's
// release).
func ReleaseOfImage(image string) string {
	if i := strings.LastIndexByte(image, '@'); i >= 0 {
		image = image[:i]
	}
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return ""
	}
	tag := image[i+1:]
	end := strings.IndexFunc(tag, func(r rune) bool { return (r < '0' || r > '9') && r != '.' })
	if end >= 0 {
		tag = tag[:end]
	}
	tag = strings.TrimRight(tag, ".")
	if major, _ := series(tag); major == 0 || !strings.Contains(tag, ".") {
		return ""
	}
	return tag
}
