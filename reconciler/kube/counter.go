package kube

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// Counts are API requests by verb. A request that asks for dryRun is
// counted in DryRun only: it writes nothing.
type Counts struct {
	// Reads: GET of one object (and discovery), LIST of a collection,
	// WATCH.
	Get, List, Watch int64
	// Writes: POST (create), PUT (update), PATCH (apply, merge), DELETE.
	Post, Put, Patch, Delete int64
	// DryRun counts POST, PUT, PATCH and DELETE with dryRun=All.
	DryRun int64
}

// Reads is Get + List + Watch.
func (c Counts) Reads() int64 { return c.Get + c.List + c.Watch }

// Writes is Post + Put + Patch + Delete: requests that may change state.
func (c Counts) Writes() int64 { return c.Post + c.Put + c.Patch + c.Delete }

// Total is every request.
func (c Counts) Total() int64 { return c.Reads() + c.Writes() + c.DryRun }

// Sub returns c - o, field by field (the requests made between two
// snapshots).
func (c Counts) Sub(o Counts) Counts {
	return Counts{Get: c.Get - o.Get, List: c.List - o.List, Watch: c.Watch - o.Watch, Post: c.Post - o.Post,
		Put: c.Put - o.Put, Patch: c.Patch - o.Patch, Delete: c.Delete - o.Delete, DryRun: c.DryRun - o.DryRun}
}

// Add returns c + o, field by field.
func (c Counts) Add(o Counts) Counts {
	return Counts{Get: c.Get + o.Get, List: c.List + o.List, Watch: c.Watch + o.Watch, Post: c.Post + o.Post,
		Put: c.Put + o.Put, Patch: c.Patch + o.Patch, Delete: c.Delete + o.Delete, DryRun: c.DryRun + o.DryRun}
}

// String is "get=1 list=2 watch=0 post=0 put=0 patch=0 delete=0 dryrun=3".
func (c Counts) String() string {
	return fmt.Sprintf("get=%d list=%d watch=%d post=%d put=%d patch=%d delete=%d dryrun=%d",
		c.Get, c.List, c.Watch, c.Post, c.Put, c.Patch, c.Delete, c.DryRun)
}

// Counter counts the API requests of client configurations it
// instrumented, per kube context: for tests ("a converged cluster costs
// zero writes") and for metrics. It is safe for concurrent use.
type Counter struct {
	mu sync.Mutex
	by map[string]*Counts
}

// NewCounter returns a Counter with nothing counted.
func NewCounter() *Counter { return &Counter{by: map[string]*Counts{}} }

// Instrument returns a copy of cfg whose requests are counted under
// context (rest.Config.WrapTransport, after any wrapper cfg had).
func (c *Counter) Instrument(context string, cfg *rest.Config) *rest.Config {
	out := rest.CopyConfig(cfg)
	inner := cfg.WrapTransport
	out.WrapTransport = func(rt http.RoundTripper) http.RoundTripper {
		if inner != nil {
			rt = inner(rt)
		}
		return &countingTransport{next: rt, context: context, counter: c}
	}
	return out
}

// Counts returns what was counted for context.
func (c *Counter) Counts(context string) Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n, ok := c.by[context]; ok {
		return *n
	}
	return Counts{}
}

// Snapshot returns the counts of every context.
func (c *Counter) Snapshot() map[string]Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]Counts, len(c.by))
	for k, v := range c.by {
		out[k] = *v
	}
	return out
}

// Contexts lists the contexts with requests counted, sorted.
func (c *Counter) Contexts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Sorted(maps.Keys(c.by))
}

// Total is the sum over every context.
func (c *Counter) Total() Counts {
	var t Counts
	for _, n := range c.Snapshot() {
		t = t.Add(n)
	}
	return t
}

func (c *Counter) count(context string, req *http.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n, ok := c.by[context]
	if !ok {
		n = &Counts{}
		c.by[context] = n
	}
	*counterOf(n, req) += 1
}

// counterOf returns the field of n that counts req.
func counterOf(n *Counts, req *http.Request) *int64 {
	q := req.URL.Query()
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		switch {
		case q.Get("watch") == "true" || q.Get("watch") == "1" || strings.Contains(req.URL.Path, "/watch/"):
			return &n.Watch
		case isCollection(req.URL.Path):
			return &n.List
		}
		return &n.Get
	}
	if len(q["dryRun"]) > 0 {
		return &n.DryRun
	}
	switch req.Method {
	case http.MethodPost:
		return &n.Post
	case http.MethodPut:
		return &n.Put
	case http.MethodPatch:
		return &n.Patch
	}
	return &n.Delete
}

// isCollection: the path names a collection of a resource
// (/api/v1/pods, /apis/apps/v1/namespaces/ns/statefulsets), not one
// object, a subresource, or discovery.
func isCollection(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return false
	}
	if len(parts) >= 3 && parts[0] == "namespaces" && parts[2] != "status" && parts[2] != "finalize" {
		parts = parts[2:]
	}
	return len(parts) == 1
}

type countingTransport struct {
	next    http.RoundTripper
	context string
	counter *Counter
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.counter.count(t.context, req)
	return t.next.RoundTrip(req)
}

// WithCounter returns Clients for the same contexts whose requests c
// counts, each under its context's name. The Manager built on them counts
// its requests too.
func (cl *Clients) WithCounter(c *Counter) (*Clients, error) {
	configs := cl.Configs()
	for name, cfg := range configs {
		configs[name] = c.Instrument(name, cfg)
	}
	return NewClientsFromConfigs(configs)
}
