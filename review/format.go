package review

import (
	"bytes"
	"fmt"
	"strings"
)

// Text renders the document for a terminal: the revisions, the summary,
// one line per operation ("<cluster>: <operation>"), refusal ("refused:
// <file:line: field: message>") and note, then the manifest diffs.
func (d *Document) Text() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "ringops plan: base %s -> head %s\n", d.Base, d.Head)
	fmt.Fprintf(&b, "%s\n", d.Summary)
	for _, cl := range d.Clusters {
		b.WriteString("\n")
		for _, p := range cl.Refused {
			fmt.Fprintf(&b, "refused: %s\n", p)
		}
		for _, n := range cl.Notes {
			fmt.Fprintf(&b, "%s: note: %s\n", cl.Name, n)
		}
		for _, op := range cl.Operations {
			fmt.Fprintf(&b, "%s: %s\n", cl.Name, op.Text)
		}
	}
	for _, cl := range d.Clusters {
		for _, c := range cl.Contexts {
			fmt.Fprintf(&b, "\n# %s, %s: %s\n", cl.Name, c.Context, c.Summary())
			b.WriteString(c.Diff)
		}
	}
	return b.Bytes()
}

// MarkdownOptions tune Markdown.
type MarkdownOptions struct {
	// MaxBytes bounds the output, for forges that limit comments (GitHub:
	// 65536 characters): diffs are cut to fit, and say so. 0: no limit.
	MaxBytes int
}

// DefaultMarkdownOptions: at most 60000 bytes, under GitHub's limit for
// a comment.
func DefaultMarkdownOptions() MarkdownOptions { return MarkdownOptions{MaxBytes: 60000} }

// Markdown renders the document for a pull-request comment: a heading
// with the summary, per cluster a list of operations, and per region a
// collapsible section holding the manifest diff.
func (d *Document) Markdown(opts MarkdownOptions) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "### ringops plan: %s\n\n", mdText(d.Summary))
	fmt.Fprintf(&b, "Base %s → head %s.\n", mdRevision(d.Base), mdRevision(d.Head))
	for _, cl := range d.Clusters {
		fmt.Fprintf(&b, "\n#### %s (%s)\n\n", mdText(cl.Name), mdCode(cl.Dir))
		for _, p := range cl.Refused {
			fmt.Fprintf(&b, "- **refused:** %s\n", mdProblem(p))
		}
		for _, n := range cl.Notes {
			fmt.Fprintf(&b, "- *note:* %s\n", mdText(n))
		}
		for _, op := range cl.Operations {
			fmt.Fprintf(&b, "- %s\n", mdText(op.Text))
		}
	}
	d.markdownDiffs(&b, opts.MaxBytes)
	return b.Bytes()
}

// markdownDiffs adds a collapsible section per region of every cluster;
// within max bytes (0: no limit), cutting the diff that does not fit.
func (d *Document) markdownDiffs(b *bytes.Buffer, limit int) {
	const reserve = 400 // for the closing of a cut section
	for _, cl := range d.Clusters {
		if len(cl.Contexts) == 0 {
			continue
		}
		fmt.Fprintf(b, "\n**%s: rendered manifests**\n", mdText(cl.Name))
		for _, c := range cl.Contexts {
			summary := mdText(c.Context + ": " + c.Summary())
			diff := c.Diff
			if limit > 0 && b.Len()+len(diff)+reserve > limit {
				room := limit - b.Len() - reserve
				if room <= 0 {
					fmt.Fprintf(b, "\n%s: diff left out, the comment is at its size limit; run `ringops plan` for it\n", summary)
					continue
				}
				diff = cutDiff(diff, room)
			}
			fence := codeFence(diff)
			fmt.Fprintf(b, "\n<details><summary>%s</summary>\n\n%sdiff\n%s%s\n\n</details>\n", summary, fence, diff, fence)
		}
	}
}

// cutDiff keeps the whole lines of diff that fit in room bytes and says
// how many were left out.
func cutDiff(diff string, room int) string {
	lines := splitLines(diff)
	var b strings.Builder
	kept := 0
	for _, l := range lines {
		if b.Len()+len(l) > room {
			break
		}
		b.WriteString(l)
		kept++
	}
	fmt.Fprintf(&b, "... %d more lines left out to fit the comment: run ringops plan for the whole diff\n", len(lines)-kept)
	return b.String()
}

// codeFence is a run of backticks longer than any in s (at least three).
func codeFence(s string) string { return strings.Repeat("`", max(3, longestBackticks(s)+1)) }

func longestBackticks(s string) int {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// mdReplacer escapes what Markdown or HTML would interpret in text that
// comes from the repository (names, messages).
var mdReplacer = strings.NewReplacer(
	" -> ", " → ",
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "~", `\~`, "|", `\|`,
	"&", "&amp;", "<", "&lt;", ">", "&gt;",
)

func mdText(s string) string { return mdReplacer.Replace(s) }

// mdCode is s as an inline code span.
func mdCode(s string) string {
	fence := strings.Repeat("`", longestBackticks(s)+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

func mdRevision(r Revision) string {
	if r.Commit == "" {
		return mdCode(r.Name)
	}
	return mdCode(r.Name) + " (" + mdCode(shortHash(r.Commit)) + ")"
}

// mdProblem is "`file:line`: field: message".
func mdProblem(p Problem) string {
	loc := Problem{File: p.File, Line: p.Line}.String()
	rest := Problem{Field: p.Field, Message: p.Message}.String()
	if loc == "" {
		return mdText(rest)
	}
	return mdCode(strings.TrimSuffix(loc, ": ")) + ": " + mdText(rest)
}
