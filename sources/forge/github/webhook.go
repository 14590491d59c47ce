package github

import (
	"net/http"
	"strings"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/sources/forge"
)

// Webhook reads GitHub's deliveries: the event in X-GitHub-Event, the body
// signed in X-Hub-Signature-256 ("sha256=" and the hex HMAC-SHA256 keyed
// with the webhook secret); "push" and "pull_request" are the events
// ringops acts on.
type Webhook struct{}

var _ forge.Webhook = Webhook{}

func (Webhook) Kind() forge.Kind { return forge.GitHub }

func (Webhook) Credential() forge.HookCredential { return forge.HookSignature }

func (Webhook) Event(hdr http.Header) string { return hdr.Get("X-GitHub-Event") }

func (Webhook) Imitates() []forge.Kind { return nil }

func (Webhook) Verify(hdr http.Header, body []byte, key secret.Secret) error {
	sig, ok := strings.CutPrefix(hdr.Get("X-Hub-Signature-256"), "sha256=")
	return forge.VerifyHMAC(key, body, sig, ok)
}

func (Webhook) Classify(event string) forge.HookEvent {
	switch event {
	case "push":
		return forge.HookPush
	case "pull_request":
		return forge.HookPullRequest
	}
	return forge.HookOther
}
