package forge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Client speaks one forge's commit-status API for one repository. It posts
// what it is given, once: dedupe, throttling, retries and rate-limit waits
// belong to the Queue, which every caller goes through.
type Client interface {
	// Kind names the forge.
	Kind() Kind
	// Limits are the forge's field limits; the Queue cleans and truncates
	// descriptions to them before posting.
	Limits() Limits
	// NativeState is the forge's name for a state ("failed" on GitLab,
	// "FAILED" on Bitbucket). Dedupe compares native states, so that two
	// ringops states the forge shows the same way are not posted twice.
	NativeState(State) string
	// Post creates (or, where the forge keys statuses, replaces) one commit
	// status. A forge answer that means "this state is already set" is an
	// error matching ErrAlreadyPosted; other failures are *APIError (or a
	// transport error, which the Queue treats as transient).
	Post(ctx context.Context, s Status) error
	// Latest returns the newest status per context on revision as the
	// forge shows it (first page of the forge's listing: at least the 100
	// newest contexts), for dedupe after a restart. Forges that cannot
	// list return ErrUnsupported.
	Latest(ctx context.Context, revision string) ([]Remote, error)
}

// Remote is a commit status as the forge shows it.
type Remote struct {
	Context     string
	State       string // native state name
	Description string
	TargetURL   string
}

// Limits are a forge's maximum field lengths, in characters; 0 means none.
type Limits struct {
	// Description of a status.
	Description int
	// TargetURL longer than this is dropped (a truncated URL is a broken link).
	TargetURL int
}

// Sentinel errors a caller can branch on with errors.Is. *APIError matches
// the one its HTTP status stands for.
var (
	// ErrAlreadyPosted: the forge refused the status because it already
	// has it (GitLab's 400 "Cannot transition status via :run from
	// :running"). The Queue counts the status as posted.
	ErrAlreadyPosted = errors.New("status already posted")
	// ErrUnauthorized: the token is missing, wrong, or lacks the scope (401, 403).
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound: the repository or commit does not exist, or the token
	// cannot see it (404).
	ErrNotFound = errors.New("not found")
	// ErrRejected: the forge refused the status itself (400, 422: a field
	// too long, GitHub's 1000 statuses per commit and context).
	ErrRejected = errors.New("rejected")
	// ErrRateLimited: a rate limit was hit (403/429 with rate-limit
	// headers); APIError.RetryAfter or ResetAt say when to try again.
	ErrRateLimited = errors.New("rate limited")
	// ErrTransient: the forge failed in a way that may pass (5xx, 409, 408,
	// an unreachable host); retried with backoff.
	ErrTransient = errors.New("transient forge error")
	// ErrUnsupported: the forge has no such operation.
	ErrUnsupported = errors.New("not supported by this forge")
)

// APIError is an unsuccessful answer of a forge's API.
type APIError struct {
	// Kind of forge and the operation ("post status", "list statuses").
	Kind Kind
	Op   string
	// StatusCode is the HTTP status of the answer.
	StatusCode int
	// Message is the forge's error message, if it sent one (shortened).
	Message string
	// Class is the sentinel the error matches (ErrRateLimited, ...).
	Class error
	// RetryAfter, when set, is how long the forge asked to wait (a
	// Retry-After header, or GitHub's documented minute for a secondary
	// rate limit without headers).
	RetryAfter time.Duration
	// ResetAt, when set, is when the rate-limit window resets
	// (x-ratelimit-reset, RateLimit-Reset).
	ResetAt time.Time
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: HTTP %d %s", e.Kind, e.Op, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.RetryAfter > 0 {
		msg += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if !e.ResetAt.IsZero() {
		msg += " (rate limit resets at " + e.ResetAt.UTC().Format(time.RFC3339) + ")"
	}
	return msg
}

// Unwrap lets errors.Is match the error's class.
func (e *APIError) Unwrap() error { return e.Class }

// ClassOf maps an HTTP status to the sentinel it stands for when the forge
// sent nothing more specific. 403 is ErrUnauthorized: forges that use it
// for rate limits check their headers first.
func ClassOf(code int) error {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return ErrUnauthorized
	case code == http.StatusNotFound:
		return ErrNotFound
	case code == http.StatusTooManyRequests:
		return ErrRateLimited
	case code == http.StatusConflict || code == http.StatusRequestTimeout || code >= 500:
		return ErrTransient
	default:
		return ErrRejected
	}
}

// retryable reports whether the Queue should keep a status whose post
// failed with err and try again later.
func retryable(err error) bool {
	if errors.Is(err, ErrRateLimited) || errors.Is(err, ErrTransient) {
		return true
	}
	var api *APIError
	// Anything that is not an answer of the forge (a refused connection,
	// a timeout, a reset) is transient.
	return !errors.As(err, &api) && !errors.Is(err, ErrAlreadyPosted) && !errors.Is(err, ErrInvalidToken)
}
