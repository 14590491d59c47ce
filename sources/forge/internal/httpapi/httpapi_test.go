package httpapi

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestMessageReadsEachForgesErrorShape(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`, "Bad credentials"},
		{`{"message":"Validation Failed","errors":[{"resource":"Status","code":"custom","field":"description","message":"description is too long (maximum is 140 characters)"}]}`,
			"Validation Failed: description is too long (maximum is 140 characters)"},
		{`{"message":{"description":["is too long (maximum is 255 characters)"]}}`, `{"description":["is too long (maximum is 255 characters)"]}`},
		{`{"type":"error","error":{"message":"key: Ensure this value has at most 40 characters (it has 48)."}}`, "key: Ensure this value has at most 40 characters (it has 48)."},
		{`{"errors":[{"context":null,"message":"Repository DB/clusters does not exist.","exceptionName":"x"}]}`, "Repository DB/clusters does not exist."},
		{"<html>\n<body>502 Bad Gateway</body></html>", "<html> <body>502 Bad Gateway</body></html>"},
		{"", ""},
	} {
		assert.Equal(t, tc.want, Message([]byte(tc.body)), tc.body)
	}
}

func TestRetryAfter(t *testing.T) {
	h := http.Header{}
	assert.Zero(t, RetryAfter(h))
	h.Set("Retry-After", "120")
	assert.Equal(t, 2*time.Minute, RetryAfter(h))
	h.Set("Retry-After", "Thu, 01 Jan 2026 00:02:00 GMT")
	h.Set("Date", "Thu, 01 Jan 2026 00:00:30 GMT")
	assert.Equal(t, 90*time.Second, RetryAfter(h), "an HTTP date counts from the forge's own Date")
	h.Set("Retry-After", "soon")
	assert.Zero(t, RetryAfter(h))
}

func TestEpochHeader(t *testing.T) {
	h := http.Header{"X-Ratelimit-Reset": {"1767226200"}}
	assert.Equal(t, time.Date(2026, 1, 1, 0, 10, 0, 0, time.UTC), EpochHeader(h, "X-Ratelimit-Reset"))
	assert.True(t, EpochHeader(h, "Ratelimit-Reset").IsZero())
}
