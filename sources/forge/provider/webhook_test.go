package provider_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/secret"
	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/provider"
	"github.com/ringops/ringops/sources/git"
	"github.com/ringops/ringops/test/gitserver"
)

const (
	hookSecret = "hook-s3cret"
	watchedRef = "refs/heads/main"
)

// hookForges are the forges whose webhooks ringops reads.
var hookForges = []forge.Kind{forge.GitHub, forge.GitLab, forge.Gitea}

// countingTarget counts triggers.
type countingTarget struct{ n atomic.Int64 }

func (c *countingTarget) Trigger() { c.n.Add(1) }

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// delivery builds a request as f would send it, signed with secret.
func delivery(f forge.Kind, event, secret, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hooks/"+string(f), strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	switch f {
	case forge.GitHub:
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex(secret, body))
	case forge.GitLab:
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Token", secret)
	case forge.Gitea:
		// Gitea sends its own headers and GitHub's; the Gitea ones count.
		req.Header.Set("X-Gitea-Event", event)
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-Gitea-Signature", hmacHex(secret, body))
	}
	return req
}

func pushEvent(f forge.Kind) string {
	if f == forge.GitLab {
		return "Push Hook"
	}
	return "push"
}

func allSecrets() map[forge.Kind]secret.Secret {
	return map[forge.Kind]secret.Secret{forge.GitHub: secret.Secret(hookSecret),
		forge.GitLab: secret.Secret(hookSecret), forge.Gitea: secret.Secret(hookSecret)}
}

// newTestHandler returns a handler of every forge, all configured; edit
// changes its options first.
func newTestHandler(log *bytes.Buffer, edit func(*forge.WebhookOptions)) (*forge.WebhookHandler, *countingTarget) {
	target := &countingTarget{}
	o := forge.DefaultWebhookOptions()
	o.Ref, o.Secrets, o.MaxBodyBytes = watchedRef, allSecrets(), 4096
	o.Logger = slog.New(slog.NewTextHandler(log, nil))
	if edit != nil {
		edit(&o)
	}
	return provider.NewWebhookHandler(o, target), target
}

// Every forge with a webhook is a kind of the status client's, with an
// endpoint of its own, and verifies what it is sent.
func TestWebhooksAreTheForgeKinds(t *testing.T) {
	var got []forge.Kind
	for _, wh := range provider.Webhooks() {
		if _, err := forge.ParseKind(string(wh.Kind())); err != nil {
			t.Errorf("webhook %s: %v", wh.Kind(), err)
		}
		got = append(got, wh.Kind())
	}
	if fmt.Sprint(got) != fmt.Sprint(hookForges) {
		t.Errorf("webhooks of %v, want %v (one endpoint each)", got, hookForges)
	}
}

func TestWebhookDeliveries(t *testing.T) {
	push := func(ref string) string {
		return fmt.Sprintf(`{"ref":%q,"after":"0123abcd","secret_marker":"payload-content"}`, ref)
	}
	for _, f := range hookForges {
		cases := []struct {
			name        string
			req         *http.Request
			wantStatus  int
			wantTrigger bool
		}{
			{"push to the watched branch", delivery(f, pushEvent(f), hookSecret, push(watchedRef)), http.StatusAccepted, true},
			{"wrong secret", delivery(f, pushEvent(f), "guess", push(watchedRef)), http.StatusUnauthorized, false},
			{"push to another branch", delivery(f, pushEvent(f), hookSecret, push("refs/heads/dev")), http.StatusOK, false},
			{"other event", delivery(f, "issues", hookSecret, `{"action":"opened"}`), http.StatusOK, false},
			{"oversized body", delivery(f, pushEvent(f), hookSecret, push(watchedRef)+strings.Repeat(" ", 5000)), http.StatusRequestEntityTooLarge, false},
			{"push without ref", delivery(f, pushEvent(f), hookSecret, `{}`), http.StatusBadRequest, false},
		}
		for _, c := range cases {
			t.Run(string(f)+"/"+c.name, func(t *testing.T) {
				var log bytes.Buffer
				h, target := newTestHandler(&log, nil)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, c.req)
				if rec.Code != c.wantStatus || (target.n.Load() == 1) != c.wantTrigger {
					t.Errorf("status %d, triggers %d; want %d, trigger=%v (body %q)",
						rec.Code, target.n.Load(), c.wantStatus, c.wantTrigger, rec.Body)
				}
				if rec.Code >= 400 && !strings.Contains(log.String(), "git webhook rejected") {
					t.Errorf("rejection not logged: %q", log.String())
				}
				if strings.Contains(log.String(), "payload-content") || strings.Contains(log.String(), hookSecret) {
					t.Errorf("log carries the payload or the secret: %q", log.String())
				}
			})
		}
	}
}

func TestWebhookRejectsUnsignedAndUnconfigured(t *testing.T) {
	body := `{"ref":"refs/heads/main"}`
	noSig := delivery(forge.GitHub, "push", hookSecret, body)
	noSig.Header.Del("X-Hub-Signature-256")
	noToken := delivery(forge.GitLab, "Push Hook", hookSecret, body)
	noToken.Header.Del("X-Gitlab-Token")
	badHex := delivery(forge.Gitea, "push", hookSecret, body)
	badHex.Header.Set("X-Gitea-Signature", "zz")
	noForge := httptest.NewRequest(http.MethodPost, "/hooks/git", strings.NewReader(body))
	twoForges := delivery(forge.GitLab, "Push Hook", hookSecret, body)
	twoForges.Header.Set("X-GitHub-Event", "push")
	get := delivery(forge.GitHub, "push", hookSecret, body)
	get.Method = http.MethodGet

	for name, c := range map[string]struct {
		req  *http.Request
		want int
	}{
		"github without signature": {noSig, http.StatusUnauthorized},
		"gitlab without token":     {noToken, http.StatusUnauthorized},
		"gitea signature not hex":  {badHex, http.StatusUnauthorized},
		"no forge headers":         {noForge, http.StatusBadRequest},
		"two forges' headers":      {twoForges, http.StatusBadRequest},
		"GET":                      {get, http.StatusMethodNotAllowed},
	} {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			h, target := newTestHandler(&log, nil)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, c.req)
			if rec.Code != c.want || target.n.Load() != 0 {
				t.Errorf("status %d triggers %d, want %d and none", rec.Code, target.n.Load(), c.want)
			}
		})
	}

	t.Run("forge without a secret", func(t *testing.T) {
		h, target := newTestHandler(&bytes.Buffer{}, func(o *forge.WebhookOptions) {
			o.Secrets = map[forge.Kind]secret.Secret{forge.GitLab: secret.Secret(hookSecret)}
		})
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, delivery(forge.GitHub, "push", "", body))
		if rec.Code != http.StatusUnauthorized || target.n.Load() != 0 {
			t.Errorf("GitHub delivery with no GitHub secret configured: %d, want 401 and no trigger", rec.Code)
		}
	})
}

// Each forge's Verify refuses a signature (or token) made with another
// secret, and says why with an error a caller can branch on.
func TestWebhookVerifyRefusesABadSignature(t *testing.T) {
	body := `{"ref":"refs/heads/main"}`
	want := map[forge.Kind]error{forge.GitHub: forge.ErrHookBadSignature, forge.Gitea: forge.ErrHookBadSignature,
		forge.GitLab: forge.ErrHookBadToken}
	for _, wh := range provider.Webhooks() {
		f := wh.Kind()
		good := delivery(f, pushEvent(f), hookSecret, body)
		if err := wh.Verify(good.Header, []byte(body), secret.Secret(hookSecret)); err != nil {
			t.Errorf("%s: a good delivery: %v", f, err)
		}
		bad := delivery(f, pushEvent(f), "guess", body)
		if err := wh.Verify(bad.Header, []byte(body), secret.Secret(hookSecret)); !errors.Is(err, want[f]) {
			t.Errorf("%s: a delivery with another secret: %v, want %v", f, err, want[f])
		}
		if err := wh.Verify(good.Header, []byte(body), nil); !errors.Is(err, forge.ErrHookNotConfigured) {
			t.Errorf("%s: no secret configured: %v, want %v", f, err, forge.ErrHookNotConfigured)
		}
		if wh.Credential() == forge.HookSignature {
			if err := wh.Verify(good.Header, []byte(body+" "), secret.Secret(hookSecret)); !errors.Is(err, forge.ErrHookBadSignature) {
				t.Errorf("%s: a body changed after signing: %v, want %v", f, err, forge.ErrHookBadSignature)
			}
		}
	}
}

func TestWebhookPullRequestsTrigger(t *testing.T) {
	prEvent := map[forge.Kind]string{forge.GitHub: "pull_request", forge.Gitea: "pull_request", forge.GitLab: "Merge Request Hook"}
	for _, f := range hookForges {
		for _, on := range []bool{false, true} {
			h, target := newTestHandler(&bytes.Buffer{}, func(o *forge.WebhookOptions) { o.PullRequests = on })
			for _, req := range []*http.Request{
				delivery(f, prEvent[f], hookSecret, `{"action":"synchronize"}`),
				delivery(f, pushEvent(f), hookSecret, `{"ref":"refs/heads/feature"}`),
				delivery(f, prEvent[f], "guess", `{"action":"opened"}`),
			} {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			want := int64(0)
			if on {
				want = 2 // the unsigned one never triggers
			}
			if got := target.n.Load(); got != want {
				t.Errorf("%s, pull requests %v: %d triggers, want %d", f, on, got, want)
			}
		}
	}
}

// An endpoint bound to a forge takes that forge's events only: a correctly
// signed delivery of another forge is refused, so that one forge's secret
// (GitLab's is sent in clear) never authenticates on another's endpoint.
func TestWebhookEndpointTakesItsForgeOnly(t *testing.T) {
	body := `{"ref":"refs/heads/main"}`
	for _, bound := range hookForges {
		for _, sender := range hookForges {
			h, target := newTestHandler(&bytes.Buffer{}, func(o *forge.WebhookOptions) { o.Forge = bound })
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, delivery(sender, pushEvent(sender), hookSecret, body))
			want := http.StatusUnauthorized
			if sender == bound {
				want = http.StatusAccepted
			}
			if rec.Code != want {
				t.Errorf("%s delivery on the %s endpoint: %d, want %d", sender, bound, rec.Code, want)
			}
			if (target.n.Load() == 1) != (sender == bound) {
				t.Errorf("%s delivery on the %s endpoint: %d triggers", sender, bound, target.n.Load())
			}
		}
	}
}

// A verified push makes the Git source poll at once, over a real Git server.
func TestWebhookPushTriggersAnImmediatePoll(t *testing.T) {
	repo := gitserver.NewRepo(t, gitserver.DefaultRepoOptions())
	repo.CommitAndPush("one", map[string]string{"a.yaml": "1\n"})
	srv := gitserver.NewHTTP(t, repo, gitserver.DefaultHTTPOptions())
	o := git.DefaultOptions()
	o.URL, o.Timeout = srv.URL(), 20*time.Second
	o.Interval = 24 * time.Hour // only the webhook can cause the second poll
	p, err := git.NewPoller(o)
	if err != nil {
		t.Fatal(err)
	}
	out := runPoller(t, p)
	if res := next(t, out); res.Outcome != git.Changed {
		t.Fatalf("first result %v (%v), want Changed", res.Outcome, res.Err)
	}

	wo := forge.DefaultWebhookOptions()
	wo.Ref, wo.Secrets = p.Ref(), map[forge.Kind]secret.Secret{forge.GitHub: secret.Secret(hookSecret)}
	hooks := httptest.NewServer(provider.NewWebhookHandler(wo, p))
	t.Cleanup(hooks.Close)

	second := repo.CommitAndPush("two", map[string]string{"a.yaml": "2\n"})
	body := fmt.Sprintf(`{"ref":"refs/heads/main","after":%q}`, second)
	req, err := http.NewRequest(http.MethodPost, hooks.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex(hookSecret, body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook answered %d, want 202", resp.StatusCode)
	}
	if res := next(t, out); res.Outcome != git.Changed || res.Revision.Hash != second {
		t.Fatalf("after the webhook: %v %s (%v), want Changed to %s", res.Outcome, res.Revision, res.Err, second)
	}
}

func runPoller(t *testing.T, p *git.Poller) <-chan git.Result {
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan git.Result)
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, out) }()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

// next waits for Run's next result; the deadline only guards against a hang.
func next(t *testing.T, out <-chan git.Result) git.Result {
	t.Helper()
	select {
	case r := <-out:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no result from Run within 30s")
		return git.Result{}
	}
}
