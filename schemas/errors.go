package schemas

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// FieldError is one problem in a cluster spec, located by file, line and
// field path (e.g. spec.datacenters[1].racks[0].name). Line and Column are
// 1-based; 0 means unknown (a spec built in code, or a problem of the whole
// file). Message says what is wrong and how to fix it.
type FieldError struct {
	File    string
	Line    int
	Column  int
	Field   string
	Message string
}

// Error renders the error as "file:line: field: message", leaving out the
// parts that are unknown.
func (e *FieldError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			fmt.Fprintf(&b, ":%d", e.Line)
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// ErrorList is every problem found in a spec (or a change of spec), sorted
// by line, then field. It is the error type returned by Load, Parse,
// Validate and ValidateChange; use errors.As to get at it.
type ErrorList []*FieldError

// Error renders one error per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap gives errors.As and errors.Is access to every FieldError.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// Err returns the list as an error, or nil when it is empty (so that an
// empty list never becomes a non-nil error interface).
func (l ErrorList) Err() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// sorted returns the list sorted by line, field and message, without
// duplicates.
func (l ErrorList) sorted() ErrorList {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Field != b.Field {
			return naturalLess(a.Field, b.Field)
		}
		return a.Message < b.Message
	})
	out := l[:0]
	for i, e := range l {
		if i > 0 && *e == *l[i-1] {
			continue
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// naturalLess orders field paths with their list indices compared as
// numbers: spec.datacenters[2] before spec.datacenters[10].
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

// digitPrefix is the number of leading ASCII digits of s.
func digitPrefix(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}

// AsErrorList returns the ErrorList inside err, if any.
func AsErrorList(err error) (ErrorList, bool) {
	var l ErrorList
	ok := errors.As(err, &l)
	return l, ok
}

// position is a 1-based line and column in a file.
type position struct{ line, column int }

// source remembers where a cluster was parsed from: the file name and the
// position of every field path that was present in the file.
type source struct {
	file string
	pos  map[string]position
}

// File returns the name of the file the cluster was parsed from, or "" for a
// cluster built in code.
func (c *CassandraCluster) File() string {
	if c.src == nil {
		return ""
	}
	return c.src.file
}

// errorAt builds a FieldError for field, located at the field itself or,
// when the field is absent from the file, at its nearest present parent.
func (c *CassandraCluster) errorAt(field, format string, args ...any) *FieldError {
	e := &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
	if c == nil || c.src == nil {
		return e
	}
	e.File = c.src.file
	e.Line, e.Column = c.src.lookup(field)
	return e
}

// lookup finds the position of field or of its nearest present parent.
func (s *source) lookup(field string) (line, column int) {
	segs := splitPath(field)
	for n := len(segs); n > 0; n-- {
		if p, ok := s.pos[strings.Join(segs[:n], "")]; ok {
			return p.line, p.column
		}
	}
	if p, ok := s.pos[""]; ok {
		return p.line, p.column
	}
	return 0, 0
}

// splitPath splits a field path into its segments, each with its leading
// separator: "spec.datacenters[1].name" -> "spec", ".datacenters", "[1]",
// ".name". Quoted map keys (labels["a.b/c"]) are kept whole.
func splitPath(p string) []string {
	var segs []string
	start := 0
	inQuote := false
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case !inQuote && (c == '.' || c == '[') && i > start:
			segs = append(segs, p[start:i])
			start = i
		}
	}
	if start < len(p) {
		segs = append(segs, p[start:])
	}
	return segs
}
