package jolokia

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrTimeout: a Jolokia call did not complete within its timeout.
	ErrTimeout = errors.New("timed out")
	// ErrUnauthorized: HTTP 401, the Jolokia credentials (or, through the pod
	// proxy, the kube credentials) were refused.
	ErrUnauthorized = errors.New("unauthorized (HTTP 401): check the credentials")
	// ErrMalformed: the answer is not a Jolokia response (HTML, truncated or
	// invalid JSON, a value of the wrong type, a bulk answer of the wrong
	// length).
	ErrMalformed = errors.New("malformed Jolokia response")
	// ErrTooLarge: the answer exceeds Options.MaxResponseBytes.
	ErrTooLarge = errors.New("response too large")
)

// HTTPError is an answer whose HTTP status is not 200. The agent answers
// 401 on bad credentials, 400 for a request it cannot parse and 500 for an
// internal fault; through the pod proxy the API server adds its own (403:
// RBAC refused pods/proxy, 400 "address not allowed", 503: no route).
type HTTPError struct {
	StatusCode int
	// Message is the start of the body when it is short printable text
	// (the API server's Status message), for the operator; never parsed.
	Message string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Is makes a 401 match ErrUnauthorized.
func (e *HTTPError) Is(target error) bool {
	return target == ErrUnauthorized && e.StatusCode == http.StatusUnauthorized
}

// RequestError is a request of a bulk that the agent answered with an error
// status inside an HTTP 200 answer: 404 (no such MBean or attribute), 403
// (refused by the agent's policy), 400 (bad request), 500 (the MBean threw).
type RequestError struct {
	MBean  string
	Target string // the attribute(s) read or the operation invoked
	Status int
	// ErrorType is the Java exception class, e.g.
	// javax.management.AttributeNotFoundException.
	ErrorType string
	Message   string
}

func (e *RequestError) Error() string {
	return fmt.Sprintf("%s %s: Jolokia status %d: %s", shortMBean(e.MBean), e.Target, e.Status, e.Message)
}

// ValueError is a value of the wrong type or shape in an otherwise valid
// answer. It matches ErrMalformed.
type ValueError struct {
	Attribute string
	Want      string // "array of strings", "string", ...
	Err       error  // the decoding error
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%s: want %s: %v", e.Attribute, e.Want, e.Err)
}

// Unwrap makes a ValueError match ErrMalformed.
func (e *ValueError) Unwrap() []error { return []error{ErrMalformed, e.Err} }

// shortMBean drops the domain of an MBean name for messages:
// "org.apache.cassandra.db:type=StorageService" -> "StorageService".
func shortMBean(m string) string {
	if _, after, ok := strings.Cut(m, "type="); ok {
		return after
	}
	return m
}
