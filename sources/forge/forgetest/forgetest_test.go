package forgetest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/sources/forge/forgetest"
)

// recordingTB keeps the failures a Server reports instead of failing.
type recordingTB struct {
	testing.TB
	mu       sync.Mutex
	errs     []string
	cleanups []func()
}

func (r *recordingTB) Helper() {}
func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Sprintf(format, args...))
}
func (r *recordingTB) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }
func (r *recordingTB) finish() []string {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.errs
}

func contract() forgetest.Contract {
	return forgetest.Contract{Doc: []string{"https://example.com/doc"}, Interactions: []forgetest.Interaction{
		{Request: forgetest.Request{Method: "POST", Path: "/repos/o/r/statuses/abc", Headers: map[string]string{"Authorization": "Bearer t"},
			Body: json.RawMessage(`{"state":"pending","context":"ringops"}`)},
			Response: forgetest.Response{Status: 201, Body: json.RawMessage(`{"id":1}`)}},
		{Request: forgetest.Request{Method: "GET", Path: "/repos/o/r/commits/abc/status", Query: map[string]string{"per_page": "100"}},
			Response: forgetest.Response{Status: 200, Body: json.RawMessage(`{"statuses":[]}`)}},
	}}
}

func post(t *testing.T, url, auth, body string) int {
	req, err := http.NewRequest("POST", url+"/repos/o/r/statuses/abc", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func TestServerAnswersTheContract(t *testing.T) {
	srv := forgetest.Serve(t, contract())
	assert.Equal(t, 201, post(t, srv.URL, "Bearer t", `{"context":"ringops","state":"pending"}`), "key order does not matter")
	resp, err := http.Get(srv.URL + "/repos/o/r/commits/abc/status?per_page=100")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, 2, srv.Served())
}

func TestServerFailsOnAnyDifference(t *testing.T) {
	for _, tc := range []struct {
		name, auth, body, want string
	}{
		{"header", "Bearer wrong", `{"state":"pending","context":"ringops"}`, "header Authorization: want Bearer t, got Bearer wrong"},
		{"body", "Bearer t", `{"state":"success","context":"ringops"}`, `"state": "pending"`},
		{"no body", "Bearer t", ``, "want JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recordingTB{TB: t}
			srv := forgetest.Serve(rec, contract())
			assert.Equal(t, http.StatusBadRequest, post(t, srv.URL, tc.auth, tc.body))
			errs := rec.finish()
			require.Len(t, errs, 2, "the difference, and the interaction left")
			assert.Contains(t, errs[0], tc.want)
			assert.Contains(t, errs[1], "1 of 2 interactions not exercised")
		})
	}
}

func TestServerFailsOnARequestBeyondTheContract(t *testing.T) {
	rec := &recordingTB{TB: t}
	c := contract()
	c.Interactions = c.Interactions[:1]
	srv := forgetest.Serve(rec, c)
	assert.Equal(t, 201, post(t, srv.URL, "Bearer t", `{"state":"pending","context":"ringops"}`))
	assert.Equal(t, http.StatusBadRequest, post(t, srv.URL, "Bearer t", `{"state":"pending","context":"ringops"}`))
	errs := rec.finish()
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0], "unexpected request POST /repos/o/r/statuses/abc")
}

func TestClockFiresTimersOnlyWhenAdvanced(t *testing.T) {
	c := forgetest.NewClock(forgetest.Epoch)
	a := c.NewTimer(10 * time.Second)
	b := c.NewTimer(time.Minute)
	assert.Equal(t, 10*time.Second, c.NextTimer(t))
	c.Advance(9 * time.Second)
	select {
	case <-a.C():
		t.Fatal("fired early")
	default:
	}
	c.Advance(time.Second)
	assert.Equal(t, forgetest.Epoch.Add(10*time.Second), <-a.C())
	assert.True(t, b.Stop())
	_, pending := c.Pending()
	assert.False(t, pending, "a stopped timer is gone")
}
