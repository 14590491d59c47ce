package git

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/ringops/ringops/internal/redact"
	"github.com/ringops/ringops/internal/secret"
)

// Triggerer is what a webhook pokes: Poller.Trigger.
type Triggerer interface{ Trigger() }

// Forge names the sender of a webhook.
type Forge string

// The forges whose push events the WebhookHandler understands.
const (
	GitHub Forge = "github"
	GitLab Forge = "gitlab"
	Gitea  Forge = "gitea" // also Forgejo, which sends the Gitea headers
)

// WebhookOptions configure a WebhookHandler. A forge whose secret is empty
// is not accepted.
type WebhookOptions struct {
	// Ref is the full ref watched (Poller.Ref()); pushes to other refs are
	// acknowledged and ignored.
	Ref string
	// GitHubSecret verifies X-Hub-Signature-256 (HMAC-SHA256 of the body).
	GitHubSecret secret.Secret
	// GitLabToken is compared with X-Gitlab-Token.
	GitLabToken secret.Secret
	// GiteaSecret verifies X-Gitea-Signature (hex HMAC-SHA256 of the body).
	GiteaSecret secret.Secret
	// Forge, when set, is the only forge whose requests are accepted (the
	// path names it: /hooks/github takes GitHub's events only); a request
	// with another forge's headers gets 401.
	Forge Forge
	// PullRequests, when set, also triggers on pull-request events
	// (GitHub and Gitea "pull_request", GitLab "Merge Request Hook") and
	// on pushes to other refs (a pull request's branch): the daemon
	// validates pull-request heads after each poll.
	PullRequests bool
	// MaxBodyBytes bounds the payload; larger requests get 413. Default 1 MiB.
	MaxBodyBytes int64
	// Logger receives one line per rejected request (never the payload or
	// a secret). Default slog.Default().
	Logger *slog.Logger
}

// DefaultWebhookOptions returns the defaults; set Ref and at least one secret.
func DefaultWebhookOptions() WebhookOptions {
	return WebhookOptions{MaxBodyBytes: 1 << 20}
}

// WebhookHandler receives GitHub, GitLab and Gitea push events and triggers
// an immediate poll when a verified push touches the watched ref. Answers:
// 202 poll triggered, 200 verified but ignored (ping, other event, other
// ref), 401 missing or wrong signature/token or forge not configured, 400
// unknown sender or unreadable payload, 405 not a POST, 413 body too large.
type WebhookHandler struct {
	opts   WebhookOptions
	target Triggerer
}

var _ http.Handler = (*WebhookHandler)(nil)

// NewWebhookHandler returns a handler that calls target.Trigger.
func NewWebhookHandler(opts WebhookOptions, target Triggerer) *WebhookHandler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultWebhookOptions().MaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &WebhookHandler{opts: opts, target: target}
}

// hook is one request, as far as the handler needs it.
type hook struct {
	forge Forge
	event string
	body  []byte
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webhook: POST only", http.StatusMethodNotAllowed)
		return
	}
	hk := hook{}
	hk.forge, hk.event = detectForge(r.Header)
	if hk.forge == "" {
		h.reject(w, r, hk, http.StatusBadRequest, "no GitHub, GitLab or Gitea event header")
		return
	}
	if h.opts.Forge != "" && hk.forge != h.opts.Forge {
		h.reject(w, r, hk, http.StatusUnauthorized, "a "+string(hk.forge)+" event on the "+string(h.opts.Forge)+" endpoint")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.reject(w, r, hk, http.StatusRequestEntityTooLarge, "body over the size limit")
		return
	case err != nil:
		h.reject(w, r, hk, http.StatusBadRequest, "body unreadable")
		return
	}
	hk.body = body
	if reason := h.authenticate(r.Header, hk); reason != "" {
		h.reject(w, r, hk, http.StatusUnauthorized, reason)
		return
	}
	h.dispatch(w, r, hk)
}

// detectForge reads the event header; Gitea also sends GitHub's headers,
// so it is checked first.
func detectForge(hdr http.Header) (Forge, string) {
	switch {
	case hdr.Get("X-Gitea-Event") != "":
		return Gitea, hdr.Get("X-Gitea-Event")
	case hdr.Get("X-Gitlab-Event") != "":
		return GitLab, hdr.Get("X-Gitlab-Event")
	case hdr.Get("X-GitHub-Event") != "":
		return GitHub, hdr.Get("X-GitHub-Event")
	}
	return "", ""
}

// authenticate returns why the request is not authentic, or "".
func (h *WebhookHandler) authenticate(hdr http.Header, hk hook) string {
	switch hk.forge {
	case GitHub:
		sig, ok := strings.CutPrefix(hdr.Get("X-Hub-Signature-256"), "sha256=")
		return checkHMAC(h.opts.GitHubSecret, hk.body, sig, ok)
	case Gitea:
		sig := hdr.Get("X-Gitea-Signature")
		return checkHMAC(h.opts.GiteaSecret, hk.body, sig, sig != "")
	case GitLab:
		return checkToken(h.opts.GitLabToken, hdr.Get("X-Gitlab-Token"))
	}
	return "unknown forge"
}

func checkHMAC(key secret.Secret, body []byte, sigHex string, present bool) string {
	if len(key) == 0 {
		return "forge not configured (no secret)"
	}
	if !present {
		return "signature header missing"
	}
	got, err := hex.DecodeString(sigHex)
	if err != nil {
		return "signature is not hex"
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return "signature mismatch"
	}
	return ""
}

func checkToken(key secret.Secret, token string) string {
	switch {
	case len(key) == 0:
		return "forge not configured (no token)"
	case token == "":
		return "token header missing"
	}
	// Hash both sides so that the comparison does not leak the length.
	want, got := sha256.Sum256(key), sha256.Sum256([]byte(token))
	if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
		return "token mismatch"
	}
	return ""
}

// isPush reports whether event is a push (or tag push) for its forge.
func isPush(f Forge, event string) bool {
	if f == GitLab {
		return event == "Push Hook" || event == "Tag Push Hook"
	}
	return event == "push"
}

// isPullRequest reports whether event is about a pull (merge) request.
func isPullRequest(f Forge, event string) bool {
	if f == GitLab {
		return event == "Merge Request Hook"
	}
	return event == "pull_request"
}

// dispatch acts on an authentic request.
func (h *WebhookHandler) dispatch(w http.ResponseWriter, r *http.Request, hk hook) {
	if h.opts.PullRequests && isPullRequest(hk.forge, hk.event) {
		h.target.Trigger()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "poll triggered (pull request)\n")
		return
	}
	if !isPush(hk.forge, hk.event) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ignored: event "+hk.event+"\n")
		return
	}
	var payload struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(hk.body, &payload); err != nil || payload.Ref == "" {
		h.reject(w, r, hk, http.StatusBadRequest, "push payload without a ref")
		return
	}
	if payload.Ref != h.opts.Ref && h.opts.PullRequests {
		h.target.Trigger()
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "poll triggered (ref "+payload.Ref+": pull-request heads are checked)\n")
		return
	}
	if payload.Ref != h.opts.Ref {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ignored: ref "+payload.Ref+" is not watched\n")
		return
	}
	h.target.Trigger()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, "poll triggered\n")
}

// reject answers status and logs one line without payload or secret.
func (h *WebhookHandler) reject(w http.ResponseWriter, r *http.Request, hk hook, status int, reason string) {
	h.opts.Logger.Warn("git webhook rejected",
		"status", status, "reason", reason, "forge", string(hk.forge), "event", redact.Text(hk.event, 64),
		"remote", r.RemoteAddr, "bytes", r.ContentLength)
	http.Error(w, "webhook: "+reason, status)
}
