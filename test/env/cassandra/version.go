package cassandra

import (
	"fmt"
	"strconv"
	"strings"
)

// Version is the Cassandra release line a node answers as: its MBean
// surface and its behaviour follow that line's source (see
// /work/shared/reference/cassandra-source.md). It follows from the node's
// ReleaseVersion: 3.x is Version311, 4.x Version41, 5.x and later Version50.
type Version uint8

// The simulated release lines.
const (
	// Version311: decommission() without argument, no ...WithPort
	// attributes, HostIdMap (deprecated) and EndpointToHostId.
	Version311 Version = iota + 1
	// Version41 (4.0 and 4.1): decommission(boolean), the ...WithPort
	// attributes, HostIdMap (deprecated) and EndpointToHostId.
	Version41
	// Version50: as 4.1 without StorageService.HostIdMap (removed by
	// CASSANDRA-18959): a multi-attribute read naming it fails as a whole
	// with 404 AttributeNotFoundException, as the real agent answers.
	Version50
)

func (v Version) String() string {
	switch v {
	case Version311:
		return "3.11"
	case Version41:
		return "4.1"
	case Version50:
		return "5.0"
	}
	return fmt.Sprintf("Version(%d)", uint8(v))
}

// legacy reports whether the line is before 4.0 (3.x MBean surface).
func (v Version) legacy() bool { return v < Version41 }

// fiveOh reports whether the line is 5.0 or later: JOINING_FAILED and
// DECOMMISSION_FAILED, a decommission that returns silently while one runs.
func (v Version) fiveOh() bool { return v >= Version50 }

// hasHostIDMap reports whether StorageService has the HostIdMap attribute.
func (v Version) hasHostIDMap() bool { return v < Version50 }

// VersionOf returns the release line of a ReleaseVersion such as "4.1.7",
// "5.0.9" or "5.0-rc1".
func VersionOf(release string) (Version, error) {
	majorText, _, _ := strings.Cut(release, ".")
	major, err := strconv.Atoi(majorText)
	switch {
	case err != nil || major < 1:
		return 0, fmt.Errorf("release version %q: want <major>.<minor>[.<patch>], e.g. 5.0.9", release)
	case major < 4:
		return Version311, nil
	case major == 4:
		return Version41, nil
	}
	return Version50, nil
}
