package review

import (
	"fmt"
	"strings"
)

// MaxEditDistance bounds the work of UnifiedDiff: beyond this many
// inserted plus deleted lines (after the common head and tail are set
// aside) the changed middle is shown as entirely replaced, which is still
// a correct diff, so that memory stays O(MaxEditDistance²) at worst.
const MaxEditDistance = 4000

// UnifiedDiff returns the unified diff (as diff -u and git print it) that
// turns a into b, with context lines of context around each change, under
// the header lines "--- labelA" and "+++ labelB"; "" when a and b are
// equal. It is a Myers diff over lines: the same inputs always give the
// same output. A last line without a newline is marked as diff does
// ("\ No newline at end of file").
func UnifiedDiff(a, b []byte, labelA, labelB string, context int) string {
	return unifiedDiff(a, b, labelA, labelB, context, nil)
}

// sectionFunc names the part of the text a line belongs to (from the
// line's index in a, or in b when inA is false), for hunk headers, as
// diff -p and git name the function; "" for none.
type sectionFunc func(line int, inA bool) string

func unifiedDiff(a, b []byte, labelA, labelB string, context int, section sectionFunc) string {
	if string(a) == string(b) {
		return ""
	}
	la, lb := splitLines(string(a)), splitLines(string(b))
	edits := diffLines(la, lb)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", labelA, labelB)
	for _, h := range hunks(edits, max(context, 0)) {
		writeHunk(&out, h, la, lb, section)
	}
	return out.String()
}

// splitLines splits s after each newline; the last line lacks one when s
// does not end with a newline.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// editKind is one line of an edit script.
type editKind uint8

const (
	keep editKind = iota
	del
	ins
)

// edit is one line of the script: kept (a[A] == b[B]), deleted (a[A]) or
// inserted (b[B]).
type edit struct {
	kind editKind
	a, b int
}

// diffLines returns the edit script from a to b: the common head and
// tail, and a shortest script for the middle.
func diffLines(a, b []string) []edit {
	ids := map[string]int{}
	id := func(lines []string) []int {
		out := make([]int, len(lines))
		for i, l := range lines {
			n, ok := ids[l]
			if !ok {
				n = len(ids)
				ids[l] = n
			}
			out[i] = n
		}
		return out
	}
	ia, ib := id(a), id(b)
	head := 0
	for head < len(ia) && head < len(ib) && ia[head] == ib[head] {
		head++
	}
	tail := 0
	for tail < len(ia)-head && tail < len(ib)-head && ia[len(ia)-1-tail] == ib[len(ib)-1-tail] {
		tail++
	}
	var script []edit
	for i := 0; i < head; i++ {
		script = append(script, edit{keep, i, i})
	}
	for _, e := range myers(ia[head:len(ia)-tail], ib[head:len(ib)-tail]) {
		script = append(script, edit{e.kind, e.a + head, e.b + head})
	}
	for i := tail; i > 0; i-- {
		script = append(script, edit{keep, len(ia) - i, len(ib) - i})
	}
	return script
}

// myers is Myers' O(ND) shortest edit script. It keeps the frontier of
// every round (O(D²) integers) to walk the path back; past
// MaxEditDistance it gives up and replaces everything.
func myers(a, b []int) []edit {
	n, m := len(a), len(b)
	limit := min(n+m, MaxEditDistance)
	off := limit + 1
	v := make([]int, 2*limit+3)
	var trace [][]int
	for d := 0; d <= limit; d++ {
		var frontier []int // after round d-1: k in [-(d-1), d-1]
		if d > 0 {
			frontier = append(frontier, v[off-d+1:off+d]...)
		}
		trace = append(trace, frontier)
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1]
			} else {
				x = v[off+k-1] + 1
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, d, n, m)
			}
		}
	}
	return replaceAll(n, m)
}

// backtrack walks the frontiers of myers back from (n, m), reached in
// round d, to (0, 0). trace[d] is the frontier after round d-1.
func backtrack(trace [][]int, d, n, m int) []edit {
	var rev []edit
	x, y := n, m
	for ; d > 0; d-- {
		prev := trace[d]
		at := func(k int) int { return prev[k+d-1] }
		k := x - y
		pk := k - 1
		if k == -d || (k != d && at(k-1) < at(k+1)) {
			pk = k + 1
		}
		px := at(pk)
		py := px - pk
		for x > px && y > py {
			x, y = x-1, y-1
			rev = append(rev, edit{keep, x, y})
		}
		if x == px {
			rev = append(rev, edit{ins, px, py})
		} else {
			rev = append(rev, edit{del, px, py})
		}
		x, y = px, py
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, edit{keep, x, y})
	}
	out := make([]edit, len(rev))
	for i, e := range rev {
		out[len(rev)-1-i] = e
	}
	return out
}

// replaceAll is the script that deletes all of a and inserts all of b.
func replaceAll(n, m int) []edit {
	out := make([]edit, 0, n+m)
	for i := 0; i < n; i++ {
		out = append(out, edit{del, i, 0})
	}
	for j := 0; j < m; j++ {
		out = append(out, edit{ins, n, j})
	}
	return out
}

// hunk is a run of the script: changes and the context around them.
type hunk []edit

// hunks groups the changes of script with context lines around each;
// changes closer than 2*context lines share a hunk.
func hunks(script []edit, context int) []hunk {
	var out []hunk
	start, end := -1, -1 // the current hunk is script[start:end]
	for i, e := range script {
		if e.kind == keep {
			continue
		}
		lo := max(i-context, 0)
		if start >= 0 && lo > end {
			out = append(out, hunk(script[start:end]))
			start = -1
		}
		if start < 0 {
			start = lo
		}
		end = min(i+1+context, len(script))
	}
	if start >= 0 {
		out = append(out, hunk(script[start:end]))
	}
	return out
}

// writeHunk prints a hunk with its "@@ -a,n +b,m @@ section" header,
// the section being that of the hunk's first change.
func writeHunk(out *strings.Builder, h hunk, a, b []string, section sectionFunc) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, e := range h {
		if e.kind != ins {
			aLen++
		}
		if e.kind != del {
			bLen++
		}
		if aStart < 0 {
			aStart, bStart = e.a, e.b
		}
	}
	name := ""
	for _, e := range h {
		if section != nil && e.kind != keep {
			name = section(e.a, e.kind == del)
			if e.kind == ins {
				name = section(e.b, false)
			}
			break
		}
	}
	if name != "" {
		name = " " + name
	}
	fmt.Fprintf(out, "@@ -%s +%s @@%s\n", span(aStart, aLen), span(bStart, bLen), name)
	for _, e := range h {
		switch e.kind {
		case keep:
			writeLine(out, ' ', a[e.a])
		case del:
			writeLine(out, '-', a[e.a])
		case ins:
			writeLine(out, '+', b[e.b])
		}
	}
}

// span is a hunk range as diff prints it: 1-based start, length omitted
// when 1; an empty range starts at the line before it.
func span(start, n int) string {
	switch n {
	case 0:
		return fmt.Sprintf("%d,0", start)
	case 1:
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func writeLine(out *strings.Builder, prefix byte, line string) {
	out.WriteByte(prefix)
	out.WriteString(line)
	if !strings.HasSuffix(line, "\n") {
		out.WriteString("\n\\ No newline at end of file\n")
	}
}
