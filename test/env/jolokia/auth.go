package jolokia

import (
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"unicode"
)

// authenticate is the JVM agent's basic authenticator
// (com.sun.net.httpserver.BasicAuthenticator as on Java 11, plus Jolokia's
// X-jolokia-authorization header). It answers the failures itself:
//   - no credentials, or wrong ones: 401 with the Basic challenge;
//   - another scheme than "Basic": 401 without a challenge;
//   - credentials that are not base64 of "user:password": the connection
//     is dropped without an answer (the JDK server fails on them).
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		if user, pass, ok := parseAltAuth(r.Header.Get("X-jolokia-authorization")); ok && h.check(user, pass) {
			return true
		}
		h.challenge(w)
		return false
	}
	scheme, creds, ok := strings.Cut(auth, " ")
	if !ok || scheme != "Basic" {
		w.WriteHeader(http.StatusUnauthorized)
		return false
	}
	user, pass, ok := decodeBasic(creds)
	if !ok {
		panic(http.ErrAbortHandler) // closes the connection, as the JDK server does
	}
	if !h.check(user, pass) {
		h.challenge(w)
		return false
	}
	return true
}

func (h *Handler) check(user, pass string) bool {
	if h.opts.User == "" {
		return false // client certificates only
	}
	u := subtle.ConstantTimeCompare([]byte(user), []byte(h.opts.User))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(h.opts.Password))
	return u&p == 1
}

// challenge answers 401 with the Basic challenge: the 2.x agent's
// authenticator names UTF-8 as its charset (seen on the real 2.6.0 agent
// on Java 17: TestRealAgentConforms), the 1.7.1 one does not.
func (h *Handler) challenge(w http.ResponseWriter) {
	c := `Basic realm="` + h.opts.Realm + `"`
	if strings.HasPrefix(h.opts.Version, "2.") {
		c += `, charset="UTF-8"`
	}
	w.Header().Set("WWW-Authenticate", c)
	w.WriteHeader(http.StatusUnauthorized)
}

// decodeBasic decodes base64("user:password") as java.util.Base64 does
// (padding optional).
func decodeBasic(s string) (string, string, bool) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(b), ":")
}

// parseAltAuth reads Jolokia's alternate header, "Basic <base64>".
func parseAltAuth(s string) (string, string, bool) {
	scheme, creds, ok := strings.Cut(strings.TrimSpace(s), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	return decodeBasic(strings.TrimSpace(creds))
}

// validJavaURI tells whether java.net.URI accepts a request URI, as the JDK
// server requires before anything else.
func validJavaURI(u string) bool {
	rest, frag, _ := strings.Cut(u, "#")
	p, q, hasQuery := strings.Cut(rest, "?")
	return validURIPart(p, false) && (!hasQuery || validURIPart(q, true)) && validURIPart(frag, true)
}

func validURIPart(s string, query bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return false
			}
			i += 2
		case c >= 0x80:
			r := []rune(s[i:])[0]
			if unicode.IsControl(r) || unicode.IsSpace(r) || r == unicode.ReplacementChar {
				return false
			}
			i += len(string(r)) - 1
		case isAlnum(c) || strings.IndexByte("_-!.~'()*,;:$&+=/@", c) >= 0:
		case query && strings.IndexByte("?[]", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func isAlnum(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}
