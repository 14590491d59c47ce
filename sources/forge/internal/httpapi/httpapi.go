package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/ringops/ringops/internal/redact"
	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/sources/forge"
)

// UserAgent is sent with every request (GitHub requires one).
const UserAgent = "ringops"

// maxBody bounds what is read of an answer.
const maxBody = 1 << 20

// Request is one API call.
type Request struct {
	Kind   forge.Kind
	Op     string // "post status", "list statuses"
	Method string
	URL    string
	Header http.Header // authorization and API-specific headers
	Body   any         // sent as JSON when not nil
}

// Classifier refines the error of a non-2xx answer from the forge's
// headers (rate limits); the default class comes from forge.ClassOf.
type Classifier func(e *forge.APIError, h http.Header)

// Do sends r and decodes a 2xx JSON answer into out (when out is not nil).
func Do(ctx context.Context, hc *http.Client, r Request, out any, classify Classifier) error {
	req, err := newRequest(ctx, r)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil { // unreachable, refused, reset, timed out: may pass
		return fmt.Errorf("%s %s: %w: %w", r.Kind, r.Op, forge.ErrTransient, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s %s: read answer: %w: %w", r.Kind, r.Op, forge.ErrTransient, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &forge.APIError{Kind: r.Kind, Op: r.Op, StatusCode: resp.StatusCode,
			Message: Message(body), Class: forge.ClassOf(resp.StatusCode)}
		e.RetryAfter = RetryAfter(resp.Header)
		if classify != nil {
			classify(e, resp.Header)
		}
		return e
	}
	if out == nil || len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", r.Kind, r.Op, err)
	}
	return nil
}

func newRequest(ctx context.Context, r Request) (*http.Request, error) {
	var body io.Reader
	if r.Body != nil {
		b, err := json.Marshal(r.Body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", r.Kind, r.Op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", r.Kind, r.Op, err)
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", UserAgent)
	return req, nil
}

// Message extracts the forge's error message from an answer body: GitHub,
// GitLab and Gitea {"message": ...} (GitHub adding "errors"), Bitbucket
// Cloud {"error": {"message": ...}}, Bitbucket Server {"errors": [{"message": ...}]};
// the start of the text otherwise.
func Message(body []byte) string {
	var v struct {
		Message json.RawMessage `json:"message"`
		Error   json.RawMessage `json:"error"`
		Errors  json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &v) != nil {
		return shorten(redact.Text(string(body), 0))
	}
	var parts []string
	for _, raw := range []json.RawMessage{v.Message, v.Error, v.Errors} {
		if s := flatten(raw); s != "" {
			parts = append(parts, s)
		}
	}
	return shorten(redact.Text(strings.Join(parts, ": "), 0))
}

// flatten renders a JSON message field: a string as is, an object's
// "message", a list's messages joined, anything else compact.
func flatten(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
		return obj.Message
	}
	var list []struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(raw, &list) == nil {
		var msgs []string
		for _, m := range list {
			if m.Message != "" {
				msgs = append(msgs, m.Message)
			}
		}
		if len(msgs) > 0 {
			return strings.Join(msgs, "; ")
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil {
		return buf.String()
	}
	return ""
}

func shorten(s string) string {
	return forge.Truncate(forge.CleanDescription(s), 300)
}

// RetryAfter reads a Retry-After header: delay-seconds, or an HTTP date
// taken relative to the answer's Date header (the forge's own clock).
func RetryAfter(h http.Header) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	when, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	now, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		now = time.Now()
	}
	return max(when.Sub(now), 0)
}

// EpochHeader reads a header holding UTC epoch seconds (x-ratelimit-reset,
// RateLimit-Reset); zero when absent or malformed.
func EpochHeader(h http.Header, name string) time.Time {
	secs, err := strconv.ParseInt(strings.TrimSpace(h.Get(name)), 10, 64)
	if err != nil || secs <= 0 {
		return time.Time{}
	}
	return time.Unix(secs, 0).UTC()
}

// Token reads the token for one request.
func Token(kind forge.Kind, src forge.TokenSource) (secret.Secret, error) {
	if src == nil {
		return nil, fmt.Errorf("%s: %w: no token configured", kind, forge.ErrInvalidToken)
	}
	return src.Token()
}
