package review

import (
	"fmt"
	"strings"
)

// plural is "1 node", "3 nodes".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// pluralWord picks the singular or the plural form.
func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func join(list []string, sep string) string { return strings.Join(list, sep) }

// joinAnd is "a", "a and b", "a, b and c".
func joinAnd(list []string) string {
	switch len(list) {
	case 0:
		return ""
	case 1:
		return list[0]
	}
	return strings.Join(list[:len(list)-1], ", ") + " and " + list[len(list)-1]
}
