package jolokia

import (
	"slices"
	"strings"
)

// objectName is a parsed JMX ObjectName: "domain:key=value,...", possibly a
// pattern (wildcards in the domain or a value, or a trailing ",*").
type objectName struct {
	given    string     // as written
	domain   string     // may hold * and ?
	props    []property // in the order written
	propWild bool       // ",*": more properties may follow
}

type property struct{ key, value string }

// parseObjectName parses name the way javax.management.ObjectName does,
// failing with the agent's message for the common mistakes.
func parseObjectName(name string) (*objectName, error) {
	domain, rest, ok := strings.Cut(name, ":")
	if !ok || rest == "" {
		return nil, malformedName("Key properties cannot be empty")
	}
	if strings.ContainsRune(domain, '\n') {
		return nil, malformedName("Invalid character '\n' in domain name")
	}
	on := &objectName{given: name, domain: domain}
	for rest != "" {
		if rest == "*" || strings.HasPrefix(rest, "*,") {
			on.propWild = true
			rest = strings.TrimPrefix(strings.TrimPrefix(rest, "*"), ",")
			continue
		}
		p, tail, err := parseProperty(rest)
		if err != nil {
			return nil, err
		}
		if slices.ContainsFunc(on.props, func(q property) bool { return q.key == p.key }) {
			return nil, malformedName("key `" + p.key + "' already defined")
		}
		on.props = append(on.props, p)
		rest = tail
	}
	return on, nil
}

// parseProperty reads "key=value" from s and returns what follows its comma.
func parseProperty(s string) (property, string, error) {
	eq := strings.IndexAny(s, "=,:*?\n")
	if eq < 0 {
		return property{}, "", malformedName("Unterminated key property part")
	}
	if s[eq] != '=' {
		return property{}, "", malformedName("Invalid character '" + s[eq:eq+1] + "' in key part of property")
	}
	if eq == 0 {
		return property{}, "", malformedName("Invalid key (empty)")
	}
	key, rest := s[:eq], s[eq+1:]
	value, tail, err := parseValue(rest)
	if err != nil {
		return property{}, "", err
	}
	if tail != "" {
		tail = tail[1:] // the comma
		if tail == "" {
			return property{}, "", malformedName("Invalid ending comma")
		}
	}
	return property{key: key, value: value}, tail, nil
}

// parseValue reads a property value (quoted or not) up to the next comma.
func parseValue(s string) (string, string, error) {
	if strings.HasPrefix(s, `"`) {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '"':
				if i+1 < len(s) && s[i+1] != ',' {
					return "", "", malformedName("Invalid quote")
				}
				return s[:i+1], s[i+1:], nil
			}
		}
		return "", "", malformedName("Unterminated quoted value")
	}
	end := strings.IndexByte(s, ',')
	if end < 0 {
		end = len(s)
	}
	if i := strings.IndexAny(s[:end], "=:\"\n"); i >= 0 {
		return "", "", malformedName("Invalid character '" + s[i:i+1] + "' in value part of property")
	}
	return s[:end], s[end:], nil
}

func malformedName(msg string) error {
	return newJavaErr(classIllegalArgument, "Invalid object name. "+msg)
}

// isPattern tells whether the name matches several MBeans.
func (o *objectName) isPattern() bool {
	if o.propWild || strings.ContainsAny(o.domain, "*?") {
		return true
	}
	return slices.ContainsFunc(o.props, func(p property) bool { return valueIsPattern(p.value) })
}

func valueIsPattern(v string) bool {
	return !strings.HasPrefix(v, `"`) && strings.ContainsAny(v, "*?")
}

// canonical is the name with its properties sorted by key, as
// ObjectName.getCanonicalName() writes it.
func (o *objectName) canonical() string {
	props := slices.Clone(o.props)
	slices.SortFunc(props, func(a, b property) int { return strings.Compare(a.key, b.key) })
	parts := make([]string, 0, len(props)+1)
	for _, p := range props {
		parts = append(parts, p.key+"="+p.value)
	}
	if o.propWild {
		parts = append(parts, "*")
	}
	return o.domain + ":" + strings.Join(parts, ",")
}

// matches tells whether the (non-pattern) name n is selected by pattern o.
func (o *objectName) matches(n *objectName) bool {
	if !wildcardMatch(o.domain, n.domain) {
		return false
	}
	for _, p := range o.props {
		i := slices.IndexFunc(n.props, func(q property) bool { return q.key == p.key })
		if i < 0 || !valueMatches(p.value, n.props[i].value) {
			return false
		}
	}
	return o.propWild || len(o.props) == len(n.props)
}

func valueMatches(pattern, value string) bool {
	if !valueIsPattern(pattern) {
		return pattern == value
	}
	return wildcardMatch(pattern, value)
}

// wildcardMatch matches s against a JMX pattern where * is any run of
// characters and ? any one character.
func wildcardMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(t) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == t[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			i, mark = star+1, mark+1
			j = mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}
