package forge

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"slices"

	"github.com/ringops/ringops/internal/redact"
	"github.com/ringops/ringops/internal/secret"
)

// Triggerer is what a webhook pokes: git.Poller.Trigger.
type Triggerer interface{ Trigger() }

// WebhookOptions configure a WebhookHandler.
type WebhookOptions struct {
	// Ref is the full ref watched (git.Poller.Ref()); pushes to other refs
	// are acknowledged and ignored.
	Ref string
	// Secrets are the forges' HMAC keys or tokens (as their Webhook's
	// Credential says). A forge without one is not accepted.
	Secrets map[Kind]secret.Secret
	// Forge, when set, is the only forge whose requests are accepted (the
	// path names it: /hooks/github takes GitHub's events only); a request
	// with another forge's headers gets 401.
	Forge Kind
	// PullRequests, when set, also triggers on pull-request events and on
	// pushes to other refs (a pull request's branch): the daemon validates
	// pull-request heads after each poll.
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

// WebhookHandler receives the push events of the forges it is given and
// triggers an immediate poll when a verified push touches the watched ref.
// Answers: 202 poll triggered, 200 verified but ignored (ping, other event,
// other ref), 401 missing or wrong signature/token or forge not configured,
// 400 unknown sender (or the event headers of two forges) or unreadable
// payload, 405 not a POST, 413 body too large.
type WebhookHandler struct {
	hooks  []Webhook
	opts   WebhookOptions
	target Triggerer
}

var _ http.Handler = (*WebhookHandler)(nil)

// NewWebhookHandler returns a handler that tells the senders apart among
// hooks (provider.Webhooks: every forge's) and calls target.Trigger.
func NewWebhookHandler(hooks []Webhook, opts WebhookOptions, target Triggerer) *WebhookHandler {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultWebhookOptions().MaxBodyBytes
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	return &WebhookHandler{hooks: slices.Clone(hooks), opts: opts, target: target}
}

// delivery is one request, as far as the handler needs it.
type delivery struct {
	hook  Webhook
	event string
	body  []byte
}

func (d delivery) forge() string {
	if d.hook == nil {
		return ""
	}
	return string(d.hook.Kind())
}

// ServeHTTP implements http.Handler.
func (h *WebhookHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "webhook: POST only", http.StatusMethodNotAllowed)
		return
	}
	d, reason := h.sender(r.Header)
	if reason != "" {
		h.reject(w, r, d, http.StatusBadRequest, reason)
		return
	}
	if h.opts.Forge != "" && d.hook.Kind() != h.opts.Forge {
		h.reject(w, r, d, http.StatusUnauthorized, "a "+d.forge()+" event on the "+string(h.opts.Forge)+" endpoint")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBodyBytes))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		h.reject(w, r, d, http.StatusRequestEntityTooLarge, "body over the size limit")
		return
	case err != nil:
		h.reject(w, r, d, http.StatusBadRequest, "body unreadable")
		return
	}
	d.body = body
	if err := d.hook.Verify(r.Header, d.body, h.opts.Secrets[d.hook.Kind()]); err != nil {
		h.reject(w, r, d, http.StatusUnauthorized, err.Error())
		return
	}
	h.dispatch(w, r, d)
}

// sender finds the forge whose event header the request carries; a forge
// that imitates another's headers wins over it. It returns why not when no
// forge, or two that do not imitate each other, match.
func (h *WebhookHandler) sender(hdr http.Header) (delivery, string) {
	var found []delivery
	for _, hk := range h.hooks {
		if ev := hk.Event(hdr); ev != "" {
			found = append(found, delivery{hook: hk, event: ev})
		}
	}
	var senders []delivery // the matches that no other match imitates
	for _, d := range found {
		if !slices.ContainsFunc(found, func(o delivery) bool { return slices.Contains(o.hook.Imitates(), d.hook.Kind()) }) {
			senders = append(senders, d)
		}
	}
	switch len(senders) {
	case 0:
		return delivery{}, "no event header of a known forge"
	case 1:
		return senders[0], ""
	}
	return delivery{}, "event headers of several forges"
}

// dispatch acts on an authentic request.
func (h *WebhookHandler) dispatch(w http.ResponseWriter, r *http.Request, d delivery) {
	kind := d.hook.Classify(d.event)
	if h.opts.PullRequests && kind == HookPullRequest {
		h.trigger(w, "poll triggered (pull request)\n")
		return
	}
	if kind != HookPush {
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ignored: event "+d.event+"\n")
		return
	}
	var payload struct {
		Ref string `json:"ref"`
	}
	if err := json.Unmarshal(d.body, &payload); err != nil || payload.Ref == "" {
		h.reject(w, r, d, http.StatusBadRequest, "push payload without a ref")
		return
	}
	switch {
	case payload.Ref == h.opts.Ref:
		h.trigger(w, "poll triggered\n")
	case h.opts.PullRequests:
		h.trigger(w, "poll triggered (ref "+payload.Ref+": pull-request heads are checked)\n")
	default:
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "ignored: ref "+payload.Ref+" is not watched\n")
	}
}

func (h *WebhookHandler) trigger(w http.ResponseWriter, answer string) {
	h.target.Trigger()
	w.WriteHeader(http.StatusAccepted)
	_, _ = io.WriteString(w, answer)
}

// reject answers status and logs one line without payload or secret.
func (h *WebhookHandler) reject(w http.ResponseWriter, r *http.Request, d delivery, status int, reason string) {
	h.opts.Logger.Warn("git webhook rejected",
		"status", status, "reason", reason, "forge", d.forge(), "event", redact.Text(d.event, 64),
		"remote", r.RemoteAddr, "bytes", r.ContentLength)
	http.Error(w, "webhook: "+reason, status)
}
