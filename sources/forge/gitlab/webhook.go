package gitlab

import (
	"net/http"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/sources/forge"
)

// Webhook reads GitLab's deliveries: the event in X-Gitlab-Event, and in
// X-Gitlab-Token the webhook's "secret token" itself, in clear (so it has
// a secret of its own, never another forge's HMAC key). "Push Hook" and
// "Tag Push Hook" are pushes, "Merge Request Hook" a pull request.
type Webhook struct{}

var _ forge.Webhook = Webhook{}

func (Webhook) Kind() forge.Kind { return forge.GitLab }

func (Webhook) Credential() forge.HookCredential { return forge.HookToken }

func (Webhook) Event(hdr http.Header) string { return hdr.Get("X-Gitlab-Event") }

func (Webhook) Imitates() []forge.Kind { return nil }

func (Webhook) Verify(hdr http.Header, _ []byte, key secret.Secret) error {
	return forge.VerifyToken(key, hdr.Get("X-Gitlab-Token"))
}

func (Webhook) Classify(event string) forge.HookEvent {
	switch event {
	case "Push Hook", "Tag Push Hook":
		return forge.HookPush
	case "Merge Request Hook":
		return forge.HookPullRequest
	}
	return forge.HookOther
}
