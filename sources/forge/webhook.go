package forge

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"

	"github.com/ringops/ringops/internal/secret"
)

// Webhook is one forge's side of its webhooks: how a delivery names its
// event, how it proves it comes from the forge, and what its events mean.
// Each forge package has one next to its Client; provider lists them, and
// the WebhookHandler serves them all alike. The forge's Kind names its
// endpoint, /hooks/<kind>.
type Webhook interface {
	// Kind is the forge; a webhook of Gitea serves Forgejo too.
	Kind() Kind
	// Credential says how Verify uses the secret.
	Credential() HookCredential
	// Event is the event the request's headers name, "" when they carry
	// no event header of this forge.
	Event(hdr http.Header) string
	// Imitates lists the forges whose event headers this one sends beside
	// its own (Gitea sends GitHub's): a request with both is this forge's.
	Imitates() []Kind
	// Verify returns nil when the request is authentic, else why not (the
	// reason is logged and answered with 401). An empty secret means the
	// forge is not configured: nothing is authentic.
	Verify(hdr http.Header, body []byte, key secret.Secret) error
	// Classify says what an event means to ringops.
	Classify(event string) HookEvent
}

// HookCredential is how a forge proves that a delivery is its own.
type HookCredential int

const (
	// HookSignature: an HMAC-SHA256 of the body keyed with the secret,
	// which never travels.
	HookSignature HookCredential = iota + 1
	// HookToken: the secret itself, in clear in a header (GitLab); a token
	// seen in transit must never be another forge's HMAC key.
	HookToken
)

func (c HookCredential) String() string {
	switch c {
	case HookSignature:
		return "signature"
	case HookToken:
		return "token"
	}
	return "unknown"
}

// HookEvent is what a webhook event means to ringops.
type HookEvent int

const (
	// HookOther is acknowledged and ignored (ping, issues, ...).
	HookOther HookEvent = iota
	// HookPush is a push of a branch or a tag; its payload names the ref.
	HookPush
	// HookPullRequest is about a pull (merge) request.
	HookPullRequest
)

func (e HookEvent) String() string {
	switch e {
	case HookPush:
		return "push"
	case HookPullRequest:
		return "pull request"
	}
	return "other"
}

// Why Verify refuses a delivery; the WebhookHandler answers 401 to each.
var (
	ErrHookNotConfigured = errors.New("forge not configured")
	ErrHookUnsigned      = errors.New("signature header missing")
	ErrHookBadSignature  = errors.New("signature mismatch")
	ErrHookNoToken       = errors.New("token header missing")
	ErrHookBadToken      = errors.New("token mismatch")
)

// VerifyHMAC checks sigHex, the hex HMAC-SHA256 of body that a delivery
// carries (present says whether its header was there), against secret.
func VerifyHMAC(key secret.Secret, body []byte, sigHex string, present bool) error {
	if len(key) == 0 {
		return fmt.Errorf("%w (no secret)", ErrHookNotConfigured)
	}
	if !present {
		return ErrHookUnsigned
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil {
		return errors.New("signature is not hex")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrHookBadSignature
	}
	return nil
}

// VerifyToken checks the token a delivery carries in clear against secret,
// in constant time.
func VerifyToken(key secret.Secret, token string) error {
	switch {
	case len(key) == 0:
		return fmt.Errorf("%w (no token)", ErrHookNotConfigured)
	case token == "":
		return ErrHookNoToken
	}
	if !key.Equal([]byte(token)) {
		return ErrHookBadToken
	}
	return nil
}
