package git

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/ringops/ringops/internal/redact"
	"io"
	"net"
	"strings"
	"syscall"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"golang.org/x/crypto/ssh"
)

// Sentinel errors. Callers branch on them with errors.Is; the message of the
// wrapping error carries the details (URL, ref, cause).
var (
	// ErrRefNotFound: the watched ref (or the whole repository) does not
	// exist on the remote, e.g. the branch was deleted.
	ErrRefNotFound = errors.New("ref not found")
	// ErrUnreachable: the server could not be reached or did not answer in
	// time (connection refused, DNS, timeout, 5xx).
	ErrUnreachable = errors.New("server unreachable")
	// ErrAuth: the credentials are missing, unreadable or were rejected.
	ErrAuth = errors.New("authentication failed")
	// ErrUntrusted: the server's identity could not be verified (TLS
	// certificate from an unknown authority, SSH host key unknown or
	// changed, known_hosts missing).
	ErrUntrusted = errors.New("server not trusted")
	// ErrRefused: a revision was fetched but refused (unsigned, unknown
	// signer, bad signature, over the size limits). Every refusal below
	// also matches ErrRefused.
	ErrRefused = errors.New("revision refused")
)

// Refusals: each matches both itself and ErrRefused under errors.Is.
var (
	// ErrUnsigned: signature verification is on and the commit is not signed.
	ErrUnsigned error = refusal("commit is not signed")
	// ErrUnknownSigner: the commit is signed by a key that is not trusted.
	ErrUnknownSigner error = refusal("commit is signed by an unknown key")
	// ErrBadSignature: the signature is malformed or does not match the commit.
	ErrBadSignature error = refusal("commit signature is invalid")
	// ErrTooLarge: a file or the whole tree is over the configured limit.
	ErrTooLarge error = refusal("tree over the size limit")
)

// refusal is a sentinel that also matches ErrRefused.
type refusal string

func (r refusal) Error() string { return string(r) }

// Is makes every refusal match ErrRefused.
func (r refusal) Is(target error) bool { return target == ErrRefused }

// OpError is the error of one git operation against the remote. It matches
// its Kind (one of the sentinels above, or nil when unclassified) and its
// cause under errors.Is/As.
//
// Its message is bounded (MaxCauseBytes of the cause, on one line) and
// redacted (the credentials' values, Authorization headers and bearer or
// basic tokens a server or proxy may echo), because a remote server writes
// it: it reaches logs, the API and commit statuses.
type OpError struct {
	Op   string // "ls-remote" or "fetch"
	URL  string // the repository URL, without any password
	Kind error  // ErrRefNotFound, ErrUnreachable, ErrAuth, ErrUntrusted or nil
	Err  error  // the cause

	secrets []string // values never to print
}

// MaxCauseBytes bounds the cause in an OpError's message.
const MaxCauseBytes = 512

func (e *OpError) Error() string {
	cause := sanitize(e.Err.Error(), e.secrets)
	if e.Kind == nil {
		return fmt.Sprintf("git %s: %s: %s", e.URL, e.Op, cause)
	}
	return fmt.Sprintf("git %s: %s: %v: %s", e.URL, e.Op, e.Kind, cause)
}

// Unwrap returns the kind and the cause.
func (e *OpError) Unwrap() []error {
	if e.Kind == nil {
		return []error{e.Err}
	}
	return []error{e.Kind, e.Err}
}

// sanitize puts a remote's error text on one line, without credentials,
// at most MaxCauseBytes long.
func sanitize(s string, secrets []string) string { return redact.Text(s, MaxCauseBytes, secrets...) }

// opError wraps err from operation op, classified into one of the sentinels.
func opError(op, url string, err error) error {
	var already *OpError
	if errors.As(err, &already) {
		return err
	}
	return &OpError{Op: op, URL: url, Kind: classify(err), Err: err}
}

// classify maps go-git, net, TLS and SSH errors onto the package sentinels.
func classify(err error) error {
	var (
		hostKey  *hostKeyError
		unknownA x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, ErrAuth), errors.Is(err, ErrUntrusted), errors.Is(err, ErrRefNotFound):
		return nil // already carries its kind
	case errors.As(err, &hostKey), errors.As(err, &unknownA), errors.As(err, &hostname),
		errors.As(err, &invalid), errors.As(err, &verify):
		return ErrUntrusted
	case errors.Is(err, transport.ErrAuthenticationRequired), errors.Is(err, transport.ErrAuthorizationFailed),
		errors.Is(err, transport.ErrInvalidAuthMethod), isSSHAuthFailure(err):
		return ErrAuth
	case errors.Is(err, transport.ErrRepositoryNotFound), errors.Is(err, transport.ErrEmptyRemoteRepository),
		errors.Is(err, gogit.NoMatchingRefSpecError{}):
		return ErrRefNotFound
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, io.ErrUnexpectedEOF),
		errors.As(err, &netErr), isServerError(err):
		return ErrUnreachable
	}
	return nil
}

// isSSHAuthFailure recognises x/crypto/ssh's client authentication failure,
// which is an untyped error.
func isSSHAuthFailure(err error) bool {
	var missing *ssh.PassphraseMissingError
	return errors.As(err, &missing) || errors.Is(err, x509.IncorrectPasswordError) ||
		strings.Contains(err.Error(), "ssh: unable to authenticate")
}

// isServerError recognises go-git's HTTP error for 5xx answers (wrapped in
// an UnexpectedError, which has no Unwrap).
func isServerError(err error) bool {
	var unexpected *plumbing.UnexpectedError
	if errors.As(err, &unexpected) {
		err = unexpected.Err
	}
	var status *githttp.Err
	return errors.As(err, &status) && status.StatusCode() >= 500
}

// hostKeyError is returned by the SSH host key callback; it names the host.
type hostKeyError struct {
	host   string
	reason string
	err    error
}

func (e *hostKeyError) Error() string {
	return fmt.Sprintf("ssh host %s: %s", e.host, e.reason)
}

func (e *hostKeyError) Unwrap() error { return e.err }
