package forgetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Contract is a recorded conversation with a forge's API, taken from its
// public documentation: the requests a client must send, in order, and the
// answers the forge gives. Files live in testdata/contracts/<forge>/.
type Contract struct {
	// Doc is the documentation the pairs were taken from (URLs).
	Doc []string `json:"doc"`
	// Description says what the conversation shows.
	Description string `json:"description"`
	// Interactions, in the order the client must send them.
	Interactions []Interaction `json:"interactions"`

	name string
}

// Interaction is one request and its answer.
type Interaction struct {
	Note     string   `json:"note,omitempty"`
	Request  Request  `json:"request"`
	Response Response `json:"response"`
}

// Request is what the client must send. Path is compared escaped (as sent
// on the wire), Query as a whole, Headers one by one (the ones listed must
// be there with these values; others are free), Body as JSON (absent: no
// body); "{{server}}" in Body stands for the test server's URL.
type Request struct {
	Method  string            `json:"method"`
	Path    string            `json:"path"`
	Query   map[string]string `json:"query,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// Response is the forge's answer: a JSON Body, or a Text body for the
// answers that are not JSON (a proxy's 502 page, Rack::Attack's 429).
type Response struct {
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	Text    string            `json:"text,omitempty"`
}

// LoadContract reads a contract file.
func LoadContract(tb testing.TB, path string) Contract {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("contract %s: %v", path, err)
	}
	var c Contract
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		tb.Fatalf("contract %s: %v", path, err)
	}
	if len(c.Doc) == 0 || len(c.Interactions) == 0 {
		tb.Fatalf("contract %s: needs doc URLs and interactions", path)
	}
	c.name = filepath.Base(path)
	return c
}

// ContractFiles lists the contract files of a directory, sorted.
func ContractFiles(tb testing.TB, dir string) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		tb.Fatalf("contracts in %s: none found (%v)", dir, err)
	}
	sort.Strings(files)
	return files
}

// Server serves one Contract on loopback and checks every request against
// it: a request that differs from the next expected one (or comes after
// the last) fails the test with a diff and gets a 400 (which clients take
// as final, so a failing test does not retry until it times out).
type Server struct {
	URL string

	tb       testing.TB
	contract Contract
	mu       sync.Mutex
	next     int
}

// Serve starts a Server for c; it stops, and checks that every interaction
// was exercised, when the test ends.
func Serve(tb testing.TB, c Contract) *Server {
	tb.Helper()
	c.Interactions = append([]Interaction(nil), c.Interactions...)
	s := &Server{tb: tb, contract: c}
	hs := httptest.NewServer(s)
	s.URL = hs.URL
	for i := range s.contract.Interactions {
		req := &s.contract.Interactions[i].Request
		req.Body = bytes.ReplaceAll(req.Body, []byte("{{server}}"), []byte(hs.URL))
	}
	tb.Cleanup(func() {
		hs.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.next < len(c.Interactions) {
			tb.Errorf("contract %s: %d of %d interactions not exercised; next: %s %s",
				c.name, len(c.Interactions)-s.next, len(c.Interactions),
				c.Interactions[s.next].Request.Method, c.Interactions[s.next].Request.Path)
		}
	})
	return s
}

// Served is how many interactions were answered.
func (s *Server) Served() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.next
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	i := s.next
	if i >= len(s.contract.Interactions) {
		s.mu.Unlock()
		s.tb.Errorf("contract %s: unexpected request %s %s (all %d interactions done)\nbody: %s",
			s.contract.name, r.Method, r.URL.RequestURI(), i, body)
		http.Error(w, `{"message":"not in the contract"}`, http.StatusBadRequest)
		return
	}
	s.next++
	s.mu.Unlock()
	want := s.contract.Interactions[i]
	if diff := mismatch(want.Request, r, body); diff != "" {
		s.tb.Errorf("contract %s, interaction %d (%s): request differs:\n%s", s.contract.name, i+1, want.Note, diff)
		http.Error(w, `{"message":"request does not match the contract"}`, http.StatusBadRequest)
		return
	}
	for k, v := range want.Response.Headers {
		w.Header().Set(k, v)
	}
	if len(want.Response.Body) > 0 && w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
	}
	w.WriteHeader(want.Response.Status)
	if want.Response.Text != "" {
		_, _ = io.WriteString(w, want.Response.Text)
		return
	}
	_, _ = w.Write(want.Response.Body)
}

// mismatch describes how r differs from want ("" when it matches).
func mismatch(want Request, r *http.Request, body []byte) string {
	var diffs []string
	check := func(what string, exp, got any) {
		if !assert.ObjectsAreEqual(exp, got) {
			diffs = append(diffs, fmt.Sprintf("%s: want %v, got %v", what, exp, got))
		}
	}
	check("method", want.Method, r.Method)
	check("path", want.Path, r.URL.EscapedPath())
	gotQuery := map[string]string{}
	for k, vs := range r.URL.Query() {
		gotQuery[k] = strings.Join(vs, ",")
	}
	if want.Query == nil {
		want.Query = map[string]string{}
	}
	check("query", want.Query, gotQuery)
	for _, k := range sortedKeys(want.Headers) {
		check("header "+k, want.Headers[k], r.Header.Get(k))
	}
	if d := bodyDiff(want.Body, body); d != "" {
		diffs = append(diffs, d)
	}
	return strings.Join(diffs, "\n")
}

func bodyDiff(want json.RawMessage, got []byte) string {
	if len(want) == 0 {
		if len(bytes.TrimSpace(got)) != 0 {
			return fmt.Sprintf("body: want none, got %s", got)
		}
		return ""
	}
	var w, g any
	if err := json.Unmarshal(want, &w); err != nil {
		return "body: contract body is not JSON: " + err.Error()
	}
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Sprintf("body: want JSON %s, got %q", want, got)
	}
	if !assert.ObjectsAreEqual(w, g) {
		wj, _ := json.MarshalIndent(w, "", "  ")
		gj, _ := json.MarshalIndent(g, "", "  ")
		return fmt.Sprintf("body:\n--- want\n%s\n+++ got\n%s", wj, gj)
	}
	return ""
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
