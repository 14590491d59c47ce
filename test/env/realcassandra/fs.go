package realcassandra

import (
	"sort"
	"strings"
)

// A container's view of the file system: absolute paths inside the
// container (its volume mounts and its image's directories) mapped to host
// directories. Commands, scripts and options of the pod are rewritten with
// it before they run on the host, so that the rendered init script, the
// readiness probe and the preStop hook run as written.

// mount maps a container path (absolute, no trailing slash) to a host path.
type mount struct{ container, host string }

// fsys is one container's mounts, longest container path first.
type fsys struct{ mounts []mount }

func newFS(ms []mount) fsys {
	ms = append([]mount(nil), ms...)
	for i := range ms {
		ms[i].container = strings.TrimSuffix(ms[i].container, "/")
	}
	sort.SliceStable(ms, func(i, j int) bool { return len(ms[i].container) > len(ms[j].container) })
	return fsys{mounts: ms}
}

// host maps one absolute container path; ok is false when no mount holds it.
func (f fsys) host(p string) (string, bool) {
	for _, m := range f.mounts {
		if p == m.container {
			return m.host, true
		}
		if rest, ok := strings.CutPrefix(p, m.container+"/"); ok {
			return m.host + "/" + rest, true
		}
	}
	return "", false
}

// pathByte reports whether b may appear inside a path or word, so that a
// container path is only matched at a word's start and end.
func pathByte(b byte) bool {
	return b == '/' || b == '.' || b == '_' || b == '-' ||
		'0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}

// rewrite replaces, in s, every mounted container path that starts a word
// (at the start of s or after a byte that cannot be in a path) and ends at
// a word's end or a "/", by its host path.
func (f fsys) rewrite(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '/' && (i == 0 || !pathByte(s[i-1])) {
			if m, ok := f.match(s[i:]); ok {
				b.WriteString(m.host)
				i += len(m.container)
				continue
			}
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func (f fsys) match(s string) (mount, bool) {
	for _, m := range f.mounts {
		if !strings.HasPrefix(s, m.container) {
			continue
		}
		rest := s[len(m.container):]
		if rest == "" || rest[0] == '/' || !pathByte(rest[0]) {
			return m, true
		}
	}
	return mount{}, false
}

// localAddresses are the addresses that, inside a pod, name the pod itself.
var localAddresses = []string{"0.0.0.0", "127.0.0.1", "localhost"}

// rewriteAddresses replaces every whole-word local address in s by ip: in
// the local world every port of a pod lives on the pod's own loopback IP.
func rewriteAddresses(s, ip string) string {
	for _, a := range localAddresses {
		s = replaceWord(s, a, ip)
	}
	return s
}

func replaceWord(s, word, with string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if strings.HasPrefix(s[i:], word) && (i == 0 || !addrByte(s[i-1])) &&
			(i+len(word) == len(s) || !addrByte(s[i+len(word)])) {
			b.WriteString(with)
			i += len(word)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

func addrByte(b byte) bool {
	return b == '.' || b == '-' || '0' <= b && b <= '9' || 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z'
}
