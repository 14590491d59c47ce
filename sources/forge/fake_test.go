package forge_test

import (
	"context"
	"sync"
	"testing"

	"github.com/ringops/ringops/sources/forge"
	"github.com/ringops/ringops/sources/forge/forgetest"
)

// recorder is a forge.Client in memory: it keeps what the forge would
// show, and can fail or hang like a forge that is down.
type recorder struct {
	mu       sync.Mutex
	attempts []forge.Status            // every Post, failed or not
	shown    map[string][]forge.Remote // revision -> statuses the forge shows (newest last)
	latest   int                       // Latest calls
	fail     []error                   // errors for the next Posts, in order
	hang     chan struct{}             // when set, Post waits for it to close
	limit    int
}

var _ forge.Client = (*recorder)(nil)

func newRecorder() *recorder { return &recorder{shown: map[string][]forge.Remote{}, limit: 140} }

func (r *recorder) Kind() forge.Kind { return forge.GitHub }

func (r *recorder) Limits() forge.Limits { return forge.Limits{Description: r.limit} }

func (r *recorder) NativeState(s forge.State) string {
	if s == forge.StateCanceled {
		return "error"
	}
	return s.String()
}

func (r *recorder) Post(ctx context.Context, s forge.Status) error {
	r.mu.Lock()
	hang := r.hang
	r.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.attempts = append(r.attempts, s)
	if len(r.fail) > 0 {
		err := r.fail[0]
		r.fail = r.fail[1:]
		return err
	}
	r.shown[s.Revision] = append(r.shown[s.Revision], forge.Remote{Context: s.Context,
		State: r.NativeState(s.State), Description: s.Description, TargetURL: s.TargetURL})
	return nil
}

func (r *recorder) Latest(_ context.Context, revision string) ([]forge.Remote, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.latest++
	newest := map[string]forge.Remote{}
	for _, s := range r.shown[revision] {
		newest[s.Context] = s
	}
	var out []forge.Remote
	for _, s := range newest {
		out = append(out, s)
	}
	return out, nil
}

// posted is what the forge shows on revision, oldest first.
func (r *recorder) posted(revision string) []forge.Remote {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]forge.Remote(nil), r.shown[revision]...)
}

func (r *recorder) attemptCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.attempts)
}

func (r *recorder) latestCalls() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.latest
}

func (r *recorder) failNext(errs ...error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = append(r.fail, errs...)
}

// startQueue runs a Queue over c on a test clock (forgetest.StartQueue).
func startQueue(t *testing.T, c forge.Client, adjust func(*forge.Options)) (*forge.Queue, *forgetest.Clock) {
	t.Helper()
	return forgetest.StartQueue(t, c, adjust)
}

func flush(t *testing.T, q *forge.Queue) { t.Helper(); forgetest.Flush(t, q) }

func report(t *testing.T, q forge.Reporter, statuses ...forge.Status) {
	t.Helper()
	forgetest.Report(t, q, statuses...)
}
