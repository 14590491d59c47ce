package review

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestUnifiedDiffExamples(t *testing.T) {
	cases := []struct {
		name, a, b, want string
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"one line changed, context on both sides", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"new file", "", "x\ny\n", "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"deleted file", "x\n", "", "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n"},
		{"insertion at the top", "a\nb\n", "new\na\nb\n", "--- a\n+++ b\n@@ -1,2 +1,3 @@\n+new\n a\n b\n"},
		{"two distant changes make two hunks",
			"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			"--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n"},
		{"close changes share a hunk", "1\n2\n3\n4\n5\n6\n7\n", "one\n2\n3\n4\n5\n6\nseven\n",
			"--- a\n+++ b\n@@ -1,7 +1,7 @@\n-1\n+one\n 2\n 3\n 4\n 5\n 6\n-7\n+seven\n"},
		{"missing final newline", "a\nb", "a\nc", "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, UnifiedDiff([]byte(tc.a), []byte(tc.b), "a", "b", 3))
		})
	}
}

// TestUnifiedDiffApplies: patching a with the diff gives b, and the edit
// script is a shortest one (as many changed lines as the LCS allows).
func TestUnifiedDiffApplies(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		a, b := randomLines(rng), randomLines(rng)
		if i%5 == 0 {
			b = mutate(rng, a)
		}
		ctx := rng.IntN(4)
		d := UnifiedDiff([]byte(strings.Join(a, "")), []byte(strings.Join(b, "")), "a", "b", ctx)
		got, err := applyUnified(a, d)
		require.NoError(t, err, "case %d:\n%s", i, d)
		require.Equal(t, strings.Join(b, ""), strings.Join(got, ""), "case %d: the diff does not turn a into b:\n%s", i, d)
		changed := 0
		for _, e := range diffLines(a, b) {
			if e.kind != keep {
				changed++
			}
		}
		require.Equal(t, len(a)+len(b)-2*lcs(a, b), changed, "case %d: not a shortest edit script", i)
	}
}

func TestUnifiedDiffIsStable(t *testing.T) {
	a := "x\na\nb\nx\na\nb\nx\n"
	b := "a\nx\nb\na\nx\nb\n"
	first := UnifiedDiff([]byte(a), []byte(b), "a", "b", 3)
	for range 10 {
		assert.Equal(t, first, UnifiedDiff([]byte(a), []byte(b), "a", "b", 3))
	}
}

func TestUnifiedDiffPastMaxEditDistance(t *testing.T) {
	var a, b []string
	for i := range MaxEditDistance {
		a = append(a, fmt.Sprintf("a%d\n", i))
		b = append(b, fmt.Sprintf("b%d\n", i))
	}
	a = append(a, "common\n")
	b = append(b, "common\n")
	d := UnifiedDiff([]byte(strings.Join(a, "")), []byte(strings.Join(b, "")), "a", "b", 3)
	got, err := applyUnified(a, d)
	require.NoError(t, err)
	assert.Equal(t, b, got, "a replaced middle is still a correct diff")
}

func randomLines(rng *rand.Rand) []string {
	n := rng.IntN(12)
	out := make([]string, n)
	for i := range out {
		out[i] = string(rune('a'+rng.IntN(4))) + "\n"
	}
	return out
}

func mutate(rng *rand.Rand, a []string) []string {
	out := append([]string(nil), a...)
	for range rng.IntN(3) + 1 {
		i := rng.IntN(len(out) + 1)
		switch rng.IntN(2) {
		case 0:
			out = append(out[:i], append([]string{"new\n"}, out[i:]...)...)
		default:
			if i < len(out) {
				out = append(out[:i], out[i+1:]...)
			}
		}
	}
	return out
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// applyUnified patches a with a unified diff, checking every context and
// deleted line.
func applyUnified(a []string, diff string) ([]string, error) {
	if diff == "" {
		return a, nil
	}
	lines := splitLines(diff)[2:]
	var out []string
	pos := 0
	for len(lines) > 0 {
		var aStart, aLen, bStart, bLen int
		if _, err := fmt.Sscanf(normaliseHeader(lines[0]), "@@ -%d,%d +%d,%d @@", &aStart, &aLen, &bStart, &bLen); err != nil {
			return nil, fmt.Errorf("hunk header %q: %w", lines[0], err)
		}
		if aLen > 0 {
			aStart--
		}
		out = append(out, a[pos:aStart]...)
		pos = aStart
		lines = lines[1:]
		for len(lines) > 0 && !strings.HasPrefix(lines[0], "@@") {
			l := lines[0]
			lines = lines[1:]
			if len(lines) > 0 && strings.HasPrefix(lines[0], `\ No newline`) {
				l = strings.TrimSuffix(l, "\n")
				lines = lines[1:]
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(a) || a[pos] != l[1:] {
					return nil, fmt.Errorf("line %d: want %q", pos+1, l[1:])
				}
				if l[0] == ' ' {
					out = append(out, l[1:])
				}
				pos++
			case '+':
				out = append(out, l[1:])
			}
		}
	}
	return append(out, a[pos:]...), nil
}

// normaliseHeader puts back the lengths diff leaves out when they are 1.
func normaliseHeader(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2 && i < len(f); i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ")
}
