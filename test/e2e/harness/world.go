package harness

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ringops/ringops/test/env"
)

// World is a test package's world: started by the first test that
// needs it (Get), stopped by Main, which keeps its directory when a
// test failed.
type World struct {
	name    string // "world", "world of real nodes": in messages
	skip    string // why -short skips the tests that need it
	options func() env.Options

	once sync.Once
	w    *env.World
	err  error
}

// NewWorld returns a world started with options (KeepDir set: Main
// removes it when every test passed), named name in messages; skip says
// why -short skips the tests that need it.
func NewWorld(name, skip string, options func() env.Options) *World {
	return &World{name: name, skip: skip, options: options}
}

// Get returns the world, started on the first call (within 10 minutes).
// It skips the test with -short and fails it when the world did not start.
func (l *World) Get(t *testing.T) *env.World {
	t.Helper()
	if testing.Short() {
		t.Skip(l.skip)
	}
	l.once.Do(func() {
		opts := l.options()
		opts.KeepDir = true // removed by Main when every test passed
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		l.w, l.err = env.StartWorld(ctx, opts)
	})
	if l.err != nil {
		t.Fatalf("local %s: %v", l.name, l.err)
	}
	return l.w
}

// stop stops the world if it was started, and removes its directory
// when the tests passed (code 0), else prints where it is and its logs.
func (l *World) stop(code int) {
	if l.w == nil {
		return
	}
	if err := l.w.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: stop %s: %v\n", l.name, err)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "e2e: %s %s kept; logs:\n  %s\n", l.name, l.w.Dir, strings.Join(l.w.Logs(), "\n  "))
	} else {
		os.RemoveAll(l.w.Dir)
	}
}
