package redact

import (
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"Authorization: Basic b2F1dGgyOnMzY3JldA==\nbad": "Authorization: xxxxx bad",
		"proxy-authorization=Bearer abcdefghijkl; next":  "proxy-authorization: xxxxx; next",
		"header PRIVATE-TOKEN: glpat-123456 was wrong":   "header PRIVATE-TOKEN: xxxxx was wrong",
		"sent bearer abcdefghijklmnop to you":            "sent bearer xxxxx to you",
		"your token is hunter22, hunter22 again":         "your token is xxxxx, xxxxx again",
		"  many\n\n  lines\tof   text ":                  "many lines of text",
		"nothing secret":                                 "nothing secret",
	} {
		if got := Text(in, 0, "hunter22"); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
	long := Text(strings.Repeat("é", 1000), 101)
	if !strings.HasSuffix(long, "bytes more)") || len(long) > 101+30 || !strings.HasPrefix(long, "éé") {
		t.Errorf("bounded text: %q", long)
	}
}
