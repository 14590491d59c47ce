// Package redact cleans text that a remote party wrote (an error page, a
// proxy's echo of a request) before it reaches a log, the API or a commit
// status: credentials out, one line, bounded. A leaf package: it imports
// only the standard library.
package redact

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Placeholder stands for every value taken out.
const Placeholder = "xxxxx"

// authHeader and tokenWord match what a server or proxy echoing a request
// shows of its credentials.
var (
	authHeader = regexp.MustCompile(`(?i)((?:proxy-)?authorization|private-token|x-gitlab-token)\s*[:=]\s*(?:(?:basic|bearer|token)\s+)?[^\s,;"']+`)
	tokenWord  = regexp.MustCompile(`(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{8,}`)
)

// Text returns s on one line, without the given secret values (those of
// four bytes or more), Authorization-like headers and bearer or basic
// tokens, at most max bytes long (0: no bound) with a note of what was cut.
func Text(s string, max int, secrets ...string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, Placeholder)
		}
	}
	s = authHeader.ReplaceAllString(s, "$1: "+Placeholder)
	s = tokenWord.ReplaceAllString(s, "$1 "+Placeholder)
	s = strings.Join(strings.Fields(s), " ")
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + fmt.Sprintf("... (%d bytes more)", len(s)-cut)
	}
	return s
}
