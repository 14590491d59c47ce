package schemas

import (
	"fmt"
	"strconv"
	"strings"
)

// release is a Cassandra release series read from an image tag.
type release struct{ major, minor int }

func (r release) String() string { return fmt.Sprintf("%d.%d", r.major, r.minor) }

// less orders release series.
func (r release) less(o release) bool {
	return r.major < o.major || r.major == o.major && r.minor < o.minor
}

// imageRelease is the release series of an image's tag (cassandra:4.1.5,
// my.registry:5000/cassandra:5.0); false for a tag that names none
// (latest, a digest, a custom name).
func imageRelease(image string) (release, bool) {
	image, _, _ = strings.Cut(image, "@")
	i := strings.LastIndexByte(image, ':')
	if i < 0 || strings.Contains(image[i:], "/") {
		return release{}, false
	}
	parts := strings.SplitN(image[i+1:], ".", 3)
	if len(parts) < 2 {
		return release{}, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0])
	if err1 != nil || err2 != nil {
		return release{}, false
	}
	return release{major, minor}, true
}

// upgradeFrom lists, for each major version, the oldest major a rolling
// upgrade may start from: Cassandra 4.0 reads the sstables and speaks the
// messaging of 3.0 and 3.11 (NEWS.txt 4.0, "Upgrades from 3.0.x or 3.x are
// supported"); 5.0 those of 4.0 and 4.1 only (its storage_compatibility_mode
// starts at CASSANDRA_4). A major skipped in between has to be rolled first.
var upgradeFrom = map[int]int{4: 3, 5: 4}

// lastSeries is the last release series of a major version.
var lastSeries = map[int]release{2: {2, 2}, 3: {3, 11}, 4: {4, 1}}

// releasePath refuses an image change that Cassandra cannot roll node by
// node: back to an older release series (the upgraded nodes wrote sstables
// and system tables the older series cannot read), or across a major
// version it must pass through first (3.11 to 5.0).
func (ch *changeValidator) releasePath() {
	pi, ni := ch.prev.Spec.Image, ch.next.Spec.Image
	if pi == ni {
		return
	}
	from, ok1 := imageRelease(pi)
	to, ok2 := imageRelease(ni)
	if !ok1 || !ok2 || from == to {
		return
	}
	if to.less(from) {
		ch.add("spec.image", "goes back from Cassandra %s to %s (%s); nodes that ran %s wrote sstables and system tables %s cannot read, so a rolled-back node would not start: keep a %s image (a downgrade is a restore from a backup taken before the upgrade)",
			from, to, ni, from, to, from)
		return
	}
	if oldest, known := upgradeFrom[to.major]; known && from.major < oldest {
		via := lastSeries[oldest]
		ch.add("spec.image", "goes from Cassandra %s to %s (%s) in one roll; Cassandra %d upgrades only from %d.x nodes: roll to %s first (and let ringops run upgradesstables), then to %s",
			from, to, ni, to.major, oldest, via, to)
	}
}

// seriesImage is an image cut to its release series (cassandra:4.1 for
// cassandra:4.1.5, or for a digest-pinned cassandra:4.1.5@sha256:...): what
// the change basis records, all that releasePath reads. An image whose tag
// names no release is kept whole.
func seriesImage(image string) string {
	r, ok := imageRelease(image)
	if !ok {
		return image
	}
	name, _, _ := strings.Cut(image, "@")
	return name[:strings.LastIndexByte(name, ':')+1] + r.String()
}
