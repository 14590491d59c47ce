// Package broadcast wakes every watcher of a state at once: Changed
// returns a channel that Notify closes (and replaces) at the next change.
package broadcast

import "sync"

// Changes is safe for concurrent use; make it with New.
type Changes struct {
	mu sync.Mutex
	ch chan struct{}
}

// New returns Changes with nobody notified yet.
func New() *Changes { return &Changes{ch: make(chan struct{})} }

// Changed returns a channel closed at the next Notify.
func (c *Changes) Changed() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ch
}

// Notify wakes every watcher of the channel Changed returned so far.
func (c *Changes) Notify() {
	c.mu.Lock()
	close(c.ch)
	c.ch = make(chan struct{})
	c.mu.Unlock()
}
