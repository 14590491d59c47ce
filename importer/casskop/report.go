package casskop

import (
	"fmt"
	"slices"
	"strings"
)

// Severity says whether a finding is information or something the user
// must look at.
type Severity int

const (
	// Note: carried as CassKop ran it, or a difference that asks nothing
	// of the user; listed so that the report is complete.
	Note Severity = iota
	// Warning: not carried, or carried differently, and the user has
	// something to do (the action says what).
	Warning
)

func (s Severity) String() string {
	if s == Warning {
		return "warning"
	}
	return "note"
}

// Finding is one line of the report: a field of a CassKop manifest and
// what became of it.
type Finding struct {
	Severity Severity
	File     string // the manifest's file (or "<context>/<namespace>/<name>" read from a cluster)
	Object   string // "CassandraCluster cassandra-demo", "MultiCasskop multi-casskop-demo"
	Field    string // CassKop's field path, e.g. spec.autoPilot
	What     string // what the import did with it
	Action   string // what the user should do; "" for none

	attach string // the file of the ring whose report lists it, when not File
}

func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s: %s: %s: %s", f.Severity, f.File, f.Object, f.Field, f.What)
	if f.Action != "" {
		s += "; " + f.Action
	}
	return s
}

// Refusal is one reason an input cannot be imported.
type Refusal struct {
	File    string
	Field   string // may be empty for a whole document
	Problem string
	Fix     string
}

func (r Refusal) String() string {
	s := r.File + ": "
	if r.Field != "" {
		s += r.Field + ": "
	}
	s += r.Problem
	if r.Fix != "" {
		s += "; " + r.Fix
	}
	return s
}

// RefusedError is Import's error for input it cannot import: every
// reason, each naming file, field and fix. Nothing is produced.
type RefusedError struct{ Refusals []Refusal }

func (e *RefusedError) Error() string {
	lines := make([]string, len(e.Refusals))
	for i, r := range e.Refusals {
		lines[i] = r.String()
	}
	return strings.Join(lines, "\n")
}

// findings collects the findings of one cluster.
type findings struct {
	file, object string
	list         []Finding
}

func (f *findings) add(sev Severity, field, what, action string) {
	f.list = append(f.list, Finding{Severity: sev, File: f.file, Object: f.object, Field: field, What: what, Action: action})
}

func (f *findings) warn(field, what, action string) { f.add(Warning, field, what, action) }
func (f *findings) note(field, what, action string) { f.add(Note, field, what, action) }

// sorted returns the findings warnings first, then by field, stable.
func sortFindings(list []Finding) []Finding {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b Finding) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		if c := strings.Compare(a.File, b.File); c != 0 {
			return c
		}
		return strings.Compare(a.Field, b.Field)
	})
	return out
}

// reportMarkdown is IMPORT.md of one cluster.
func reportMarkdown(name string, sources []string, list []Finding) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# Import of %s from CassKop\n\n", name)
	fmt.Fprintf(&b, "Written by `ringops import` from %s. It lists every CassKop field that\n", strings.Join(sources, ", "))
	b.WriteString("ringops does not carry, or carries differently, and what to do about it.\n")
	b.WriteString("Delete this file once you have gone through it.\n\n")
	b.WriteString("**Before `ringops apply`:** `spec.adopt: true` takes CassKop's running StatefulSets,\n" +
		"Service and pods over in place, with no restart: CassKop's pod template stays until a\n" +
		"change needs a restart. Stop CassKop's operator first (ringops waits while it runs),\n" +
		"settle the items below, and check with `ringops diff` that it says \"adopts N\n" +
		"StatefulSets, 0 restarts\"; see README \"Coming from CassKop\".\n\n")
	var warns, notes []Finding
	for _, f := range sortFindings(list) {
		if f.Severity == Warning {
			warns = append(warns, f)
		} else {
			notes = append(notes, f)
		}
	}
	section := func(title string, fs []Finding) {
		fmt.Fprintf(&b, "## %s (%d)\n\n", title, len(fs))
		if len(fs) == 0 {
			b.WriteString("None.\n\n")
			return
		}
		for _, f := range fs {
			fmt.Fprintf(&b, "- **`%s`** (%s, %s): %s.", f.Field, f.Object, f.File, f.What)
			if f.Action != "" {
				fmt.Fprintf(&b, " **To do:** %s.", f.Action)
			}
			b.WriteString("\n")
		}
		b.WriteString("\n")
	}
	section("Needs your attention", warns)
	section("Carried differently, nothing to do", notes)
	return []byte(b.String())
}
