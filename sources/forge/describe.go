package forge

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ellipsis marks a truncated description (one character on every forge).
const ellipsis = "…"

// CleanDescription makes a description one line: control characters and
// runs of white space (newlines of a multi-line error) become one space.
func CleanDescription(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Truncate shortens s to at most max characters (Unicode code points, the
// unit the forges count in), ending a shortened text with "…". max <= 0
// means no limit.
func Truncate(s string, max int) string {
	if max <= 0 || utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + ellipsis
		}
		n++
	}
	return s
}

// Summary is the status of a revision as a whole (SummaryContext) from the
// statuses of its regions: failure if any region failed, then error, then
// canceled, pending while any region is pending, success when all
// succeeded. The description counts regions per state and names the
// regions that are not done, in context order. An empty input is pending.
func Summary(revision string, regions []Status) Status {
	sorted := append([]Status(nil), regions...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Context < sorted[j].Context })
	counts := map[State]int{}
	var notDone []string
	for _, s := range sorted {
		counts[s.State]++
		if s.State != StateSuccess {
			notDone = append(notDone, regionName(s.Context)+": "+s.Description)
		}
	}
	state := StateSuccess
	for _, st := range []State{StateFailure, StateError, StateCanceled, StatePending} {
		if counts[st] > 0 {
			state = st
			break
		}
	}
	if len(sorted) == 0 {
		state = StatePending
	}
	desc := fmt.Sprintf("%d/%d regions done", counts[StateSuccess], len(sorted))
	if len(notDone) > 0 {
		desc += "; " + strings.Join(notDone, "; ")
	}
	return Status{Revision: revision, Context: SummaryContext, State: state, Description: desc}
}

// regionName is the part of a region context after "ringops/":
// "orders/eu-west".
func regionName(context string) string {
	return strings.TrimPrefix(context, ContextPrefix+"/")
}
