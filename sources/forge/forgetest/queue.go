package forgetest

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ringops/ringops/sources/forge"
)

// StartQueue runs a forge.Queue over c on a test Clock at Epoch, with no
// spacing and no throttle window unless adjust sets them; it stops when the
// test ends.
func StartQueue(tb testing.TB, c forge.Client, adjust func(*forge.Options)) (*forge.Queue, *Clock) {
	tb.Helper()
	clock := NewClock(Epoch)
	o := forge.DefaultOptions()
	o.Clock = clock
	o.MinSpacing = 0
	o.MinInterval = 0
	o.Logger = slog.New(slog.NewTextHandler(logWriter{tb}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if adjust != nil {
		adjust(&o)
	}
	q, err := forge.NewQueue(c, o)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); q.Run(ctx) }()
	tb.Cleanup(func() { cancel(); <-done })
	return q, clock
}

// Flush waits (at most 10s of real time) until q has nothing queued.
func Flush(tb testing.TB, q *forge.Queue) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
}

// Drain moves clock through the Queue's waits (throttle windows, backoff)
// until nothing is queued; at most 60s of real time.
func Drain(tb testing.TB, q *forge.Queue, clock *Clock) {
	tb.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for q.Stats().Queued > 0 {
		if time.Now().After(deadline) {
			tb.Fatalf("forge queue: %d statuses still queued after 60s", q.Stats().Queued)
		}
		if d, ok := clock.Pending(); ok {
			clock.Advance(d)
			continue
		}
		time.Sleep(time.Millisecond)
	}
}

// Report queues statuses and fails the test on a refused one.
func Report(tb testing.TB, q forge.Reporter, statuses ...forge.Status) {
	tb.Helper()
	for _, s := range statuses {
		if err := q.Report(context.Background(), s); err != nil {
			tb.Fatal(err)
		}
	}
}

// logWriter sends the Queue's log to the test log (shown when a test fails).
type logWriter struct{ tb testing.TB }

func (w logWriter) Write(p []byte) (int, error) {
	w.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
