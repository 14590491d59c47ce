package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ringops/ringops/test/gitea"
)

// states Gitea knows; every one but pending is final.
var states = []string{"pending", "success", "failure", "error", "warning"}

func knownState(s string) bool { return slices.Contains(states, s) }

// statuses prints the commit's latest status per context, once, or
// following it (-watch, -wait-summary).
func statuses(ctx context.Context, cfg config, out io.Writer) error {
	srv, repo, err := open(cfg)
	if err != nil {
		return err
	}
	read := func() ([]gitea.CommitStatus, error) {
		all, err := srv.CommitStatuses(repo, cfg.sha)
		return gitea.LatestStatuses(all), err
	}
	if !cfg.watch && cfg.waitFor == "" {
		latest, err := read()
		if err != nil {
			return err
		}
		_, err = io.WriteString(out, formatTable(latest, cfg.width))
		return err
	}
	return follow(ctx, cfg, out, read)
}

// follow reads every interval until the summary reaches -wait-summary
// (or another final state: an error), or -timeout passes (an error when
// waiting; the end of a plain -watch).
func follow(ctx context.Context, cfg config, out io.Writer, read func() ([]gitea.CommitStatus, error)) error {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	tick := time.NewTicker(cfg.interval)
	defer tick.Stop()
	var last string
	for {
		latest, err := read()
		if err != nil {
			return err
		}
		table := formatTable(latest, cfg.width)
		if cfg.watch && table != last {
			_, _ = fmt.Fprintf(out, "%s  %s  %s\n%s\n", time.Now().Format("15:04:05"), short(cfg.sha), summaryLine(cfg, latest), table)
		}
		last = table
		if done, err := reached(cfg, latest); done {
			if !cfg.watch {
				_, _ = io.WriteString(out, table)
			}
			return err
		}
		select {
		case <-ctx.Done():
			return ended(ctx, cfg, last)
		case <-tick.C:
		}
	}
}

// ended explains why following stopped before the summary was reached.
func ended(ctx context.Context, cfg config, last string) error {
	if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("statuses of %s: interrupted", short(cfg.sha))
	}
	if cfg.waitFor == "" {
		return nil
	}
	return fmt.Errorf("statuses of %s: the summary %s is not %s after %s; last read:\n%s",
		short(cfg.sha), cfg.summary, cfg.waitFor, cfg.timeout, last)
}

// reached says whether the summary context is final: done with no error
// when it has the wanted state, with an error when another final one.
func reached(cfg config, latest []gitea.CommitStatus) (bool, error) {
	if cfg.waitFor == "" {
		return false, nil
	}
	st, ok := find(latest, cfg.summary)
	switch {
	case !ok:
		return false, nil
	case st.State == cfg.waitFor:
		return true, nil
	case st.State != "pending":
		return true, fmt.Errorf("statuses of %s: the summary %s is %s, not %s: %s",
			short(cfg.sha), cfg.summary, st.State, cfg.waitFor, st.Description)
	}
	return false, nil
}

func find(latest []gitea.CommitStatus, name string) (gitea.CommitStatus, bool) {
	for _, st := range latest {
		if st.Context == name {
			return st, true
		}
	}
	return gitea.CommitStatus{}, false
}

func summaryLine(cfg config, latest []gitea.CommitStatus) string {
	st, ok := find(latest, cfg.summary)
	if !ok {
		return cfg.summary + ": no status yet"
	}
	return cfg.summary + ": " + st.State
}

// formatTable renders statuses (sorted by context) as aligned columns,
// each line cut to width characters (0: no limit).
func formatTable(latest []gitea.CommitStatus, width int) string {
	if len(latest) == 0 {
		return "(no status yet)\n"
	}
	var buf bytes.Buffer
	w := tabwriter.NewWriter(&buf, 0, 4, 2, ' ', 0)
	_, _ = fmt.Fprintln(w, "CONTEXT\tSTATE\tDESCRIPTION")
	for _, st := range latest {
		_, _ = fmt.Fprintf(w, "%s\t%s\t%s\n", st.Context, st.State, oneLine(st.Description))
	}
	_ = w.Flush()
	if width == 0 {
		return buf.String()
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	for i, l := range lines {
		lines[i] = cut(l, width)
	}
	return strings.Join(lines, "")
}

// cut shortens a line (its newline kept) to width characters, the last
// one an ellipsis.
func cut(line string, width int) string {
	body, nl := strings.CutSuffix(line, "\n")
	r := []rune(body)
	if len(r) <= width {
		return line
	}
	out := string(r[:max(width-1, 0)]) + "…"
	if nl {
		out += "\n"
	}
	return out
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
