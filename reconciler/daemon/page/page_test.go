package page

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringops/ringops/reconciler/daemon"
)

// fakeSource is a daemon whose state the test sets.
type fakeSource struct {
	mu       sync.Mutex
	clusters []daemon.ClusterState
	ch       chan struct{}
}

func newFakeSource(cs ...daemon.ClusterState) *fakeSource {
	return &fakeSource{clusters: cs, ch: make(chan struct{})}
}

func (f *fakeSource) Clusters() []daemon.ClusterState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]daemon.ClusterState(nil), f.clusters...)
}

func (f *fakeSource) Source() daemon.SourceState {
	return daemon.SourceState{Revision: "main@sha1:0123456789abcdef", Commit: "0123456789abcdef", Subject: "grow dc1"}
}

func (f *fakeSource) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ch
}

// set changes the state and tells the watchers.
func (f *fakeSource) set(edit func(cs []daemon.ClusterState) []daemon.ClusterState) {
	f.mu.Lock()
	f.clusters = edit(f.clusters)
	close(f.ch)
	f.ch = make(chan struct{})
	f.mu.Unlock()
}

// rolling is a cluster of 2 datacenters x 3 racks x n nodes per rack,
// its last node joining.
func rolling(name string, n int) daemon.ClusterState {
	c := daemon.ClusterState{Name: name, Dir: "clusters/" + name, Revision: "89abcdef0123456789abcdef0123456789abcdef", Subject: "grow every rack",
		RolledOut: "0123456789abcdef0123456789abcdef01234567", State: "pending", Wait: "RolloutInProgress",
		WaitText: "eu-west: a node is joining: orders-dc1-r3-2 bootstrapping, 12 s",
		Regions: []daemon.RegionState{{Context: "eu-west", State: "pending", Description: "eu-west: a node is joining"},
			{Context: "us-east", State: "pending", Description: "queued behind eu-west"}},
		Ring: "unhealthy: orders-dc1-r3-2 joining"}
	for i, dc := range []string{"dc1", "dc2"} {
		for _, rack := range []string{"r1", "r2", "r3"} {
			for o := range n {
				pod := fmt.Sprintf("%s-%s-%s-%d", name, dc, rack, o)
				c.RingNodes = append(c.RingNodes, daemon.NodeView{Context: []string{"eu-west", "us-east"}[i], Datacenter: dc, Rack: rack,
					Pod: pod, Ordinal: int32(o), State: "UN", Mode: "NORMAL", Load: "1.21 GiB", Address: fmt.Sprintf("10.%d.%d.%d", i, len(rack), o),
					HostID: "6f1c2b1e-4c1d-4b53-9a55-0d3f6c1e2a" + fmt.Sprintf("%02d", o)})
			}
		}
	}
	last := &c.RingNodes[n*3-1]
	last.State, last.Mode, last.InFlight = "UJ", "JOINING", true
	for i := range 10 {
		c.Timeline = append(c.Timeline, daemon.TimelineEntry{At: time.Date(2026, 12, 7, 12, i, 0, 0, time.UTC), Context: "eu-west",
			Step: fmt.Sprintf("eu-west: scale StatefulSet %s-dc1-r%d 1 -> 2", name, i%3+1), Result: "ok", Waited: 61})
	}
	c.History = []daemon.RevisionOutcome{{Revision: c.RolledOut, Subject: "first", Outcome: "success", Started: time.Date(2026, 12, 7, 11, 0, 0, 0, time.UTC), Seconds: 600},
		{Revision: c.Revision, Subject: c.Subject, Outcome: "rolling", Started: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)}}
	c.ToCome = []string{"us-east: scale StatefulSet orders-dc2-r1 2 -> 3", "us-east: scale StatefulSet orders-dc2-r2 2 -> 3"}
	return c
}

func server(t *testing.T, src Source) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	o := DefaultOptions()
	o.MinInterval, o.CommitURL = time.Millisecond, "https://github.com/acme/db/commit/{sha}"
	New(src, o).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestPageIsSelfContained: the page and its assets name nothing outside
// the daemon, with relative URLs only (it works behind a path prefix), and
// a policy that forbids loading anything from elsewhere.
func TestPageIsSelfContained(t *testing.T) {
	srv := server(t, newFakeSource())
	res, err := http.Get(srv.URL + "/")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	_ = res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, res.Header.Get("Content-Security-Policy"), "default-src 'none'")
	require.Contains(t, string(body), `src="assets/app.js"`)
	require.Contains(t, string(body), `href="assets/app.css"`)
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:|//|/)|url\(\s*["']?(https?:|//)|@import|fetch\(\s*["']/|EventSource\(\s*["']/`)
	require.NoError(t, fs.WalkDir(assets, "assets", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := assets.ReadFile(path)
		require.NoError(t, err)
		require.Empty(t, external.FindAllString(string(b), -1), "%s names something outside the daemon, or an absolute path", path)
		res, err := http.Get(srv.URL + "/" + path)
		require.NoError(t, err)
		_ = res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, path)
		return nil
	}))
}

// sse reads server-sent events.
type sse struct {
	r *bufio.Reader
}

func (s sse) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		require.NoError(t, err)
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			data = line[len("data: "):]
		}
	}
}

func open(t *testing.T, url string) sse {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { _ = res.Body.Close() })
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	return sse{r: bufio.NewReader(res.Body)}
}

// TestEventsPushChanges: a stream opens with the source and every
// cluster; then it sends what changes, and only that: a node turning UN
// changes the summary (nodes by state) of the overview's stream, and the
// detail of the cluster's own stream; a cluster gone is said gone.
func TestEventsPushChanges(t *testing.T) {
	src := newFakeSource(rolling("orders", 3), rolling("users", 3))
	srv := server(t, src)
	all, one := open(t, srv.URL+"/api/v1/events"), open(t, srv.URL+"/api/v1/events?cluster=orders")

	name, data := all.next(t)
	require.Equal(t, "source", name)
	require.Contains(t, data, `"commitURL":"https://github.com/acme/db/commit/{sha}"`)
	for _, want := range []string{"orders", "users"} {
		name, data = all.next(t)
		require.Equal(t, "summary", name)
		var s summary
		require.NoError(t, json.Unmarshal([]byte(data), &s))
		require.Equal(t, want, s.Name)
		require.Equal(t, map[string]int{"UN": 17, "UJ": 1}, s.Nodes)
	}
	_, _ = one.next(t) // source
	for _, want := range []string{"summary", "detail", "summary"} {
		name, _ = one.next(t)
		require.Equal(t, want, name, "the detail of orders only")
	}

	src.set(func(cs []daemon.ClusterState) []daemon.ClusterState {
		cs[0].RingNodes[8].State, cs[0].RingNodes[8].InFlight = "UN", false
		return cs
	})
	name, data = all.next(t)
	require.Equal(t, "summary", name, "users did not change: only orders is sent")
	require.Contains(t, data, `"nodes":{"UN":18}`)
	name, _ = one.next(t)
	require.Equal(t, "summary", name)
	name, data = one.next(t)
	require.Equal(t, "detail", name)
	var d detail
	require.NoError(t, json.Unmarshal([]byte(data), &d))
	require.Equal(t, "UN", d.RingNodes[8].State)

	src.set(func(cs []daemon.ClusterState) []daemon.ClusterState { return cs[:1] })
	name, data = all.next(t)
	require.Equal(t, "gone", name)
	require.Equal(t, `"users"`, data)
}

// TestStreamSendsNothingUnchanged: a change elsewhere (another cluster's
// detail) costs a stream nothing.
func TestStreamSendsNothingUnchanged(t *testing.T) {
	st := newStream("")
	snap := snapshot{Clusters: []daemon.ClusterState{rolling("orders", 3)}}
	var b strings.Builder
	n, err := st.send(&b, snap)
	require.NoError(t, err)
	require.Positive(t, n)
	snap.Clusters[0].Timeline = append(snap.Clusters[0].Timeline, daemon.TimelineEntry{Step: "more"})
	n, err = st.send(&b, snap)
	require.NoError(t, err)
	require.Zero(t, n, "the overview's stream sends no timeline")
}

// TestEventsOutliveTheServersTimeouts: a stream stays open past the
// server's read and write timeouts (the daemon's are 30 s).
func TestEventsOutliveTheServersTimeouts(t *testing.T) {
	src := newFakeSource(rolling("orders", 1))
	mux := http.NewServeMux()
	o := DefaultOptions()
	o.MinInterval = time.Millisecond
	New(src, o).Register(mux)
	srv := httptest.NewUnstartedServer(mux)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 50*time.Millisecond, 50*time.Millisecond
	srv.Start()
	t.Cleanup(srv.Close)
	s := open(t, srv.URL+"/api/v1/events")
	_, _ = s.next(t)                   // source
	_, _ = s.next(t)                   // orders
	time.Sleep(200 * time.Millisecond) // past both timeouts
	src.set(func(cs []daemon.ClusterState) []daemon.ClusterState {
		cs[0].WaitText = "later"
		return cs
	})
	name, data := s.next(t)
	require.Equal(t, "summary", name)
	require.Contains(t, data, `"waitText":"later"`)
}
