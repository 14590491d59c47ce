package git

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringops/ringops/internal/secret"
)

const (
	hookSecret = "hook-s3cret"
	watchedRef = "refs/heads/main"
)

// countingTarget counts triggers.
type countingTarget struct{ n atomic.Int64 }

func (c *countingTarget) Trigger() { c.n.Add(1) }

func hmacHex(secret, body string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil))
}

// delivery builds a request as forge would send it, signed with secret.
func delivery(forge Forge, event, secret, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "/hooks/git", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	switch forge {
	case GitHub:
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex(secret, body))
	case GitLab:
		req.Header.Set("X-Gitlab-Event", event)
		req.Header.Set("X-Gitlab-Token", secret)
	case Gitea:
		// Gitea sends its own headers and GitHub's; the Gitea ones count.
		req.Header.Set("X-Gitea-Event", event)
		req.Header.Set("X-GitHub-Event", event)
		req.Header.Set("X-Gitea-Signature", hmacHex(secret, body))
	}
	return req
}

func pushEvent(f Forge) string {
	if f == GitLab {
		return "Push Hook"
	}
	return "push"
}

func newTestHandler(log *bytes.Buffer) (*WebhookHandler, *countingTarget) {
	target := &countingTarget{}
	o := DefaultWebhookOptions()
	o.Ref = watchedRef
	o.GitHubSecret, o.GitLabToken, o.GiteaSecret = secret.Secret(hookSecret), secret.Secret(hookSecret), secret.Secret(hookSecret)
	o.MaxBodyBytes = 4096
	o.Logger = slog.New(slog.NewTextHandler(log, nil))
	return NewWebhookHandler(o, target), target
}

func TestWebhookDeliveries(t *testing.T) {
	push := func(ref string) string {
		return fmt.Sprintf(`{"ref":%q,"after":"0123abcd","secret_marker":"payload-content"}`, ref)
	}
	for _, forge := range []Forge{GitHub, GitLab, Gitea} {
		cases := []struct {
			name        string
			req         *http.Request
			wantStatus  int
			wantTrigger bool
		}{
			{"push to the watched branch", delivery(forge, pushEvent(forge), hookSecret, push(watchedRef)), http.StatusAccepted, true},
			{"wrong secret", delivery(forge, pushEvent(forge), "guess", push(watchedRef)), http.StatusUnauthorized, false},
			{"push to another branch", delivery(forge, pushEvent(forge), hookSecret, push("refs/heads/dev")), http.StatusOK, false},
			{"other event", delivery(forge, "issues", hookSecret, `{"action":"opened"}`), http.StatusOK, false},
			{"oversized body", delivery(forge, pushEvent(forge), hookSecret, push(watchedRef)+strings.Repeat(" ", 5000)), http.StatusRequestEntityTooLarge, false},
			{"push without ref", delivery(forge, pushEvent(forge), hookSecret, `{}`), http.StatusBadRequest, false},
		}
		for _, c := range cases {
			t.Run(string(forge)+"/"+c.name, func(t *testing.T) {
				var log bytes.Buffer
				h, target := newTestHandler(&log)
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
	noSig := delivery(GitHub, "push", hookSecret, body)
	noSig.Header.Del("X-Hub-Signature-256")
	noToken := delivery(GitLab, "Push Hook", hookSecret, body)
	noToken.Header.Del("X-Gitlab-Token")
	badHex := delivery(Gitea, "push", hookSecret, body)
	badHex.Header.Set("X-Gitea-Signature", "zz")
	noForge := httptest.NewRequest(http.MethodPost, "/hooks/git", strings.NewReader(body))
	get := delivery(GitHub, "push", hookSecret, body)
	get.Method = http.MethodGet

	for name, c := range map[string]struct {
		req  *http.Request
		want int
	}{
		"github without signature": {noSig, http.StatusUnauthorized},
		"gitlab without token":     {noToken, http.StatusUnauthorized},
		"gitea signature not hex":  {badHex, http.StatusUnauthorized},
		"no forge headers":         {noForge, http.StatusBadRequest},
		"GET":                      {get, http.StatusMethodNotAllowed},
	} {
		t.Run(name, func(t *testing.T) {
			var log bytes.Buffer
			h, target := newTestHandler(&log)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, c.req)
			if rec.Code != c.want || target.n.Load() != 0 {
				t.Errorf("status %d triggers %d, want %d and none", rec.Code, target.n.Load(), c.want)
			}
		})
	}

	t.Run("forge without a secret", func(t *testing.T) {
		target := &countingTarget{}
		o := DefaultWebhookOptions()
		o.Ref, o.GitLabToken = watchedRef, secret.Secret(hookSecret)
		o.Logger = slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
		rec := httptest.NewRecorder()
		NewWebhookHandler(o, target).ServeHTTP(rec, delivery(GitHub, "push", "", body))
		if rec.Code != http.StatusUnauthorized || target.n.Load() != 0 {
			t.Errorf("GitHub delivery with no GitHub secret configured: %d, want 401 and no trigger", rec.Code)
		}
	})
}

func TestWebhookPushTriggersAnImmediatePoll(t *testing.T) {
	r := newRepo(t)
	r.commit(map[string]string{"a.yaml": "1\n"}, "one")
	srv := startHTTP(t, r)
	o := testOptions(srv.URL)
	o.Interval = 24 * time.Hour // only the webhook can cause the second poll
	p := mustPoller(t, o)
	out := runPoller(t, p)
	if res := next(t, out); res.Outcome != Changed {
		t.Fatalf("first result %v (%v), want Changed", res.Outcome, res.Err)
	}

	wo := DefaultWebhookOptions()
	wo.Ref, wo.GitHubSecret = p.Ref(), secret.Secret(hookSecret)
	hooks := httptest.NewServer(NewWebhookHandler(wo, p))
	t.Cleanup(hooks.Close)

	second := r.commit(map[string]string{"a.yaml": "2\n"}, "two")
	body := fmt.Sprintf(`{"ref":"refs/heads/main","after":%q}`, second)
	req, err := http.NewRequest(http.MethodPost, hooks.URL, strings.NewReader(body))
	must(t, err)
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-Hub-Signature-256", "sha256="+hmacHex(hookSecret, body))
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook answered %d, want 202", resp.StatusCode)
	}
	if res := next(t, out); res.Outcome != Changed || res.Revision.Hash != second {
		t.Fatalf("after the webhook: %v %s (%v), want Changed to %s", res.Outcome, res.Revision, res.Err, second)
	}
}

func TestWebhookPullRequestsTrigger(t *testing.T) {
	prEvent := map[Forge]string{GitHub: "pull_request", Gitea: "pull_request", GitLab: "Merge Request Hook"}
	for _, forge := range []Forge{GitHub, GitLab, Gitea} {
		for _, on := range []bool{false, true} {
			var log bytes.Buffer
			h, target := newTestHandler(&log)
			h.opts.PullRequests = on
			for _, req := range []*http.Request{
				delivery(forge, prEvent[forge], hookSecret, `{"action":"synchronize"}`),
				delivery(forge, pushEvent(forge), hookSecret, `{"ref":"refs/heads/feature"}`),
				delivery(forge, prEvent[forge], "guess", `{"action":"opened"}`),
			} {
				h.ServeHTTP(httptest.NewRecorder(), req)
			}
			want := int64(0)
			if on {
				want = 2 // the unsigned one never triggers
			}
			if got := target.n.Load(); got != want {
				t.Errorf("%s, pull requests %v: %d triggers, want %d", forge, on, got, want)
			}
		}
	}
}

// An endpoint bound to a forge takes that forge's events only: a correctly
// signed delivery of another forge is refused, so that one forge's secret
// (GitLab's is sent in clear) never authenticates on another's endpoint.
func TestWebhookEndpointTakesItsForgeOnly(t *testing.T) {
	body := `{"ref":"refs/heads/main"}`
	for _, bound := range []Forge{GitHub, GitLab, Gitea} {
		for _, sender := range []Forge{GitHub, GitLab, Gitea} {
			var log bytes.Buffer
			h, target := newTestHandler(&log)
			h.opts.Forge = bound
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
