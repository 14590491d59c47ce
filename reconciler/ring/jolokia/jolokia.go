package jolokia

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/ringops/ringops/reconciler/ring"
)

// Options configure a Client.
type Options struct {
	// Timeout bounds every call to one agent, from the dial to the last byte
	// of the answer. A slow or silent agent fails with ErrTimeout.
	Timeout time.Duration
	// MaxResponseBytes bounds the body of an answer; a longer one fails with
	// ErrTooLarge without being read further.
	MaxResponseBytes int64
	// ReadLoad adds StorageService.LoadMap to each health read (View.Load),
	// for display; the health gate does not need it.
	ReadLoad bool
}

// DefaultOptions returns a 5 s timeout and a 4 MiB answer limit (a health
// answer of a 300-node ring is about 60 KiB).
func DefaultOptions() Options {
	return Options{Timeout: 5 * time.Second, MaxResponseBytes: 4 << 20}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.MaxResponseBytes <= 0 {
		o.MaxResponseBytes = d.MaxResponseBytes
	}
	return o
}

// Client speaks the Jolokia protocol (JSON over HTTP POST) to the agents of
// Cassandra nodes. It is safe for concurrent use.
type Client struct {
	router Router
	opts   Options
}

var _ Operator = (*Client)(nil)

// NewClient returns a Client reaching nodes through router. Zero fields of
// opts take their defaults.
func NewClient(router Router, opts Options) *Client {
	return &Client{router: router, opts: opts.withDefaults()}
}

// Request is one Jolokia request of a bulk.
type Request struct {
	Type      string `json:"type"` // "read" or "exec"
	MBean     string `json:"mbean"`
	Attribute any    `json:"attribute,omitempty"` // read: a name or a list of names
	Operation string `json:"operation,omitempty"` // exec: name, or name(type,...) for overloads
	Arguments []any  `json:"arguments,omitzero"`  // exec: always sent, [] for none
}

// target names what a request reads or invokes, for messages.
func (r Request) target() string {
	if r.Operation != "" {
		return r.Operation
	}
	switch a := r.Attribute.(type) {
	case string:
		return a
	case []string:
		return strings.Join(a, ",")
	}
	return r.Type
}

// Response is the agent's answer to one request. Status is the per-request
// status, which is not the HTTP status: an HTTP 200 answer may carry 404, 403
// or 500 here.
type Response struct {
	Status    int             `json:"status"`
	Value     json.RawMessage `json:"value"`
	Error     string          `json:"error"`
	ErrorType string          `json:"error_type"`
}

// err returns the response's error as a *RequestError, nil when Status is 200.
func (r *Response) err(req Request) error {
	if r.Status == http.StatusOK {
		return nil
	}
	return &RequestError{MBean: req.MBean, Target: req.target(), Status: r.Status, ErrorType: r.ErrorType, Message: r.Error}
}

// Bulk POSTs requests in one bulk and returns one response per request, in
// order. The error, a *NodeError, covers the call (transport, timeout, HTTP
// status, a body that is no bulk answer); the caller checks each response's
// Status.
func (c *Client) Bulk(ctx context.Context, n ring.Node, reqs []Request) ([]Response, error) {
	resps, err := c.bulk(ctx, n, reqs)
	if err != nil {
		return nil, &ring.NodeError{Node: n, Op: "bulk request", Err: err}
	}
	return resps, nil
}

func (c *Client) bulk(ctx context.Context, n ring.Node, reqs []Request) ([]Response, error) {
	body, err := json.Marshal(reqs)
	if err != nil {
		return nil, fmt.Errorf("jolokia bulk request: %w", err)
	}
	b, err := c.post(ctx, n, body, 0)
	if err != nil {
		return nil, err
	}
	return parseBulk(b, reqs)
}

// Call is one MBean operation to invoke.
type Call struct {
	MBean string
	// Operation is the name, or name(type,...) to pick an overload.
	Operation string
	Args      []any
	// Timeout bounds this call instead of Options.Timeout when set (an
	// operation such as decommission answers only when it is done).
	Timeout time.Duration
}

// Exec invokes an MBean operation and returns its value.
func (c *Client) Exec(ctx context.Context, n ring.Node, call Call) (json.RawMessage, error) {
	args := call.Args
	if args == nil {
		args = []any{}
	}
	req := Request{Type: "exec", MBean: call.MBean, Operation: call.Operation, Arguments: args}
	body, err := json.Marshal([]Request{req})
	var resps []Response
	if err == nil {
		var b []byte
		if b, err = c.post(ctx, n, body, call.Timeout); err == nil {
			resps, err = parseBulk(b, []Request{req})
		}
	}
	if err == nil {
		err = resps[0].err(req)
	}
	if err != nil {
		return nil, &ring.NodeError{Node: n, Op: "exec " + call.Operation, Err: err}
	}
	return resps[0].Value, nil
}

// post sends one Jolokia POST and returns the body of an HTTP 200 answer.
// timeout overrides Options.Timeout when positive. An agent that refuses
// the route's credentials (401) is asked once more with its Fallback.
func (c *Client) post(ctx context.Context, n ring.Node, body []byte, timeout time.Duration) ([]byte, error) {
	route, err := c.router.Route(ctx, n)
	if err != nil {
		return nil, err
	}
	if timeout <= 0 {
		timeout = c.opts.Timeout
	}
	callCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	b, err := c.send(ctx, callCtx, route, route.Credentials, body, timeout)
	var he *HTTPError
	if route.Fallback != nil && errors.As(err, &he) && he.StatusCode == http.StatusUnauthorized {
		return c.send(ctx, callCtx, route, route.Fallback, body, timeout)
	}
	return b, err
}

// send is one POST of post.
func (c *Client) send(ctx, callCtx context.Context, route Route, creds *Credentials, body []byte, timeout time.Duration) ([]byte, error) {
	req, err := http.NewRequestWithContext(callCtx, http.MethodPost, route.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if creds != nil {
		req.SetBasicAuth(creds.Username, creds.Password)
	}
	resp, err := route.HTTP.Do(req)
	if err != nil {
		return nil, callError(ctx, callCtx, err, timeout)
	}
	defer resp.Body.Close()
	b, err := readLimited(resp.Body, c.opts.MaxResponseBytes)
	if err != nil {
		return nil, callError(ctx, callCtx, err, timeout)
	}
	if resp.StatusCode != http.StatusOK {
		e := &HTTPError{StatusCode: resp.StatusCode}
		if resp.StatusCode != http.StatusUnauthorized {
			e.Message = errorSnippet(b)
		}
		return nil, e
	}
	return b, nil
}

// callError turns a failed call into ErrTimeout when a deadline (the
// call's or the caller's) expired, and keeps the caller's cancellation.
func callError(parent, call context.Context, err error, timeout time.Duration) error {
	if errors.Is(err, ErrTooLarge) {
		return err
	}
	if perr := parent.Err(); perr != nil {
		if errors.Is(perr, context.DeadlineExceeded) {
			return fmt.Errorf("%w: %w", ErrTimeout, perr)
		}
		return perr
	}
	var ne net.Error
	if call.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
		return fmt.Errorf("%w after %s", ErrTimeout, timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // the node is named by the caller; the URL adds nothing
	}
	return err
}

// readLimited reads r to its end, failing with ErrTooLarge past max bytes.
func readLimited(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, max)
	}
	return b, nil
}

// parseBulk decodes a bulk answer to reqs.
func parseBulk(b []byte, reqs []Request) ([]Response, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: empty body", ErrMalformed)
	case b[0] == '{':
		// The agent answers a bulk it rejects as a whole with one error object.
		var r Response
		if err := json.Unmarshal(b, &r); err == nil && r.Status != 0 && r.Status != http.StatusOK {
			return nil, &RequestError{Target: "bulk request", Status: r.Status, ErrorType: r.ErrorType, Message: r.Error}
		}
		return nil, fmt.Errorf("%w: want a JSON array of %d responses, got an object", ErrMalformed, len(reqs))
	case b[0] != '[':
		return nil, fmt.Errorf("%w: not JSON, body starts with %q", ErrMalformed, prefix(b, 24))
	}
	var resps []Response
	if err := json.Unmarshal(b, &resps); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(resps) != len(reqs) {
		return nil, fmt.Errorf("%w: %d responses to %d requests", ErrMalformed, len(resps), len(reqs))
	}
	for i := range resps {
		if resps[i].Status == 0 {
			return nil, fmt.Errorf("%w: response %d has no status", ErrMalformed, i)
		}
	}
	return resps, nil
}

func prefix(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}

// errorSnippet returns a short printable message from an error body: the
// message of a Kubernetes Status, or the first line of plain text; "" for
// anything else (HTML, binary).
func errorSnippet(b []byte) string {
	var st struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(b, &st) == nil && st.Message != "" {
		return clip(st.Message)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(b)), "\n")
	if line == "" || strings.HasPrefix(line, "<") || strings.IndexFunc(line, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return ""
	}
	return clip(line)
}

// clip shortens s to at most 200 runes.
func clip(s string) string {
	const max = 200
	if r := []rune(s); len(r) > max {
		return string(r[:max]) + "..."
	}
	return s
}
