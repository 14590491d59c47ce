package bitbucket

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"time"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/internal/httpapi"
)

// DescriptionLimit: neither Bitbucket documents a description limit; both
// refuse a name of 255 characters or more (jenkinsci/bitbucket-branch-source-plugin
// #928), and 255 is the bound of the other text fields of Data Center's
// build status (key, buildNumber). ringops keeps descriptions within it.
const DescriptionLimit = 255

// Key is the build status key of a context: its SHA-1 in hex, 40
// characters. Bitbucket Cloud refuses longer keys ("key: Ensure this value
// has at most 40 characters"), Data Center keys longer than 255; a hash
// also keeps the key free of the characters a key may not hold. The
// context itself is sent as the status name.
func Key(context string) string {
	sum := sha1.Sum([]byte(context))
	return hex.EncodeToString(sum[:])
}

// Auth says how requests authenticate.
type Auth struct {
	// Token is an access token (Cloud: repository or workspace access
	// token; Data Center: HTTP access token), or the password of Username.
	Token forge.TokenSource
	// Username, when set, makes the request use basic auth with Token as
	// the password (Cloud: app password or API token; Data Center: user
	// password); without it Token is a Bearer token.
	Username string
}

func (a Auth) header(kind forge.Kind) (http.Header, error) {
	tok, err := httpapi.Token(kind, a.Token)
	if err != nil {
		return nil, err
	}
	if a.Username != "" {
		basic := base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + string(tok)))
		return http.Header{"Authorization": {"Basic " + basic}, "Accept": {"application/json"}}, nil
	}
	return http.Header{"Authorization": {"Bearer " + string(tok)}, "Accept": {"application/json"}}, nil
}

// statusBody is the build status both products take (Data Center ignores
// refname, Cloud has no ref).
type statusBody struct {
	Key         string `json:"key"`
	State       string `json:"state"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Description string `json:"description,omitempty"`
}

// remoteBody is a build status as both products list it.
type remoteBody struct {
	Key         string `json:"key"`
	State       string `json:"state"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Description string `json:"description"`
}

func (b remoteBody) remote() forge.Remote {
	return forge.Remote{Context: b.Name, State: b.State, Description: b.Description, TargetURL: b.URL}
}

// rateLimitWait is the wait after a 429 without Retry-After. Bitbucket
// Cloud counts requests in a rolling hour and sends no reset time
// (https://support.atlassian.com/bitbucket-cloud/docs/api-request-limits/);
// a minute, doubled by the Queue while it persists, keeps ringops from
// spending the rest of the hour's budget on retries.
const rateLimitWait = time.Minute

// classify: a 429 is a rate limit in both products; the wait is
// Retry-After when sent (Data Center's rate limiting sends it), else a minute.
func classify(e *forge.APIError, _ http.Header) {
	if e.StatusCode == http.StatusTooManyRequests {
		e.Class = forge.ErrRateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = rateLimitWait
		}
	}
}
