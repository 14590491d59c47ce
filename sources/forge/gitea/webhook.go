package gitea

import (
	"net/http"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/sources/forge"
)

// Webhook reads the deliveries of Gitea and Forgejo: the event in
// X-Gitea-Event, the body's hex HMAC-SHA256 keyed with the webhook secret
// in X-Gitea-Signature. They also send GitHub's headers; Gitea's count.
// "push" and "pull_request" are the events ringops acts on.
type Webhook struct{}

var _ forge.Webhook = Webhook{}

func (Webhook) Kind() forge.Kind { return forge.Gitea }

func (Webhook) Credential() forge.HookCredential { return forge.HookSignature }

func (Webhook) Event(hdr http.Header) string { return hdr.Get("X-Gitea-Event") }

func (Webhook) Imitates() []forge.Kind { return []forge.Kind{forge.GitHub} }

func (Webhook) Verify(hdr http.Header, body []byte, key secret.Secret) error {
	sig := hdr.Get("X-Gitea-Signature")
	return forge.VerifyHMAC(key, body, sig, sig != "")
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
