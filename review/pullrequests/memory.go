package pullrequests

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/ringops/ringops/sources/git"
)

// Reason says why a head waits for a check; it orders the waiting heads.
type Reason int

const (
	// NewHead: the pull request's head was never checked, or moved since.
	NewHead Reason = iota
	// BaseMoved: the head was checked against an older base revision.
	BaseMoved
	// Retry: the last check of this head against this base failed (the
	// head could not be fetched or planned).
	Retry
)

func (r Reason) String() string {
	switch r {
	case NewHead:
		return "NewHead"
	case BaseMoved:
		return "BaseMoved"
	case Retry:
		return "Retry"
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// checked is the last check of one head.
type checked struct {
	head, base string
	failed     bool   // fetch or compare failed: retried later
	seq        uint64 // when, for eviction
}

// memory remembers the last check of each head, by ref, at most max.
type memory struct {
	max   int
	seq   uint64
	heads map[string]checked
}

func newMemory(max int) *memory { return &memory{max: max, heads: map[string]checked{}} }

// forget drops the heads that are no longer advertised and returns how
// many it dropped.
func (m *memory) forget(advertised []git.Revision) int {
	keep := make(map[string]bool, len(advertised))
	for _, r := range advertised {
		keep[r.Ref] = true
	}
	n := 0
	for ref := range m.heads {
		if !keep[ref] {
			delete(m.heads, ref)
			n++
		}
	}
	return n
}

// candidate is a head waiting for a check.
type candidate struct {
	rev    git.Revision
	reason Reason
	number int // the pull request's number, -1 when the ref has none
}

// pending returns the heads that wait for a check against base, in the
// order they are checked: by Reason, then newest pull request first.
// A head at the base commit itself is never checked: it changes nothing.
func (m *memory) pending(heads []git.Revision, base string) []candidate {
	var out []candidate
	for _, h := range heads {
		if h.Hash == base {
			continue
		}
		last, seen := m.heads[h.Ref]
		c := candidate{rev: h, number: prNumber(h.Ref)}
		switch {
		case !seen || last.head != h.Hash:
			c.reason = NewHead
		case last.base != base:
			c.reason = BaseMoved
		case last.failed:
			c.reason = Retry
		default:
			continue
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.reason, b.reason), cmp.Compare(b.number, a.number), strings.Compare(a.rev.Ref, b.rev.Ref))
	})
	return out
}

// seen reports whether ref was checked (or refused) since the Checker
// was made.
func (m *memory) seen(ref string) bool {
	_, ok := m.heads[ref]
	return ok
}

// remember records a check of head against base under ref, forgetting
// the least recently checked heads beyond max.
func (m *memory) remember(ref, head, base string, failed bool) {
	m.seq++
	m.heads[ref] = checked{head: head, base: base, failed: failed, seq: m.seq}
	for len(m.heads) > m.max {
		oldest, oldestSeq := "", uint64(0)
		for r, c := range m.heads {
			if oldest == "" || c.seq < oldestSeq {
				oldest, oldestSeq = r, c.seq
			}
		}
		delete(m.heads, oldest)
	}
}

// prNumber is the first all-digit segment of ref ("refs/pull/42/head"
// -> 42), -1 when there is none.
func prNumber(ref string) int {
	for seg := range strings.SplitSeq(ref, "/") {
		if seg == "" || strings.Trim(seg, "0123456789") != "" {
			continue
		}
		if n, err := strconv.Atoi(seg); err == nil {
			return n
		}
	}
	return -1
}
