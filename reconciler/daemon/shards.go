package daemon

import (
	"context"

	"github.com/ringops/ringops/reconciler"
	"github.com/ringops/ringops/reconciler/daemon/shard"
)

// shardOf is the shard of the cluster in dir (0 when not sharded).
func (d *Daemon) shardOf(dir string) int {
	if d.opts.Shards == nil {
		return 0
	}
	return shard.Of(dir, d.opts.Shards.Count())
}

// ownsShard reports whether this replica holds shard i (always, when
// not sharded).
func (d *Daemon) ownsShard(i int) bool {
	return d.opts.Shards == nil || d.opts.Shards.Owns(i)
}

// owns reports whether this replica runs the cluster in dir.
func (d *Daemon) owns(dir string) bool { return d.ownsShard(d.shardOf(dir)) }

// owned are the clusters of srcs this replica runs.
func (d *Daemon) owned(srcs []reconciler.Source) []reconciler.Source {
	if d.opts.Shards == nil {
		return srcs
	}
	var out []reconciler.Source
	for _, s := range srcs {
		if d.owns(s.Dir) {
			out = append(out, s)
		}
	}
	return out
}

// shardsChanged is closed at the next change of the shards held (nil,
// never, when not sharded).
func (d *Daemon) shardsChanged() <-chan struct{} {
	if d.opts.Shards == nil {
		return nil
	}
	return d.opts.Shards.Changed()
}

// reassign follows a change of the shards held: the workers of the
// clusters of a shard lost (or being given back) stop after their step in
// flight (and the fence refuses any step after it); the clusters of a
// shard taken get a worker on the current revision, which starts once the
// worker this replica ran there before, if any, has ended.
func (d *Daemon) reassign(ctx context.Context) {
	d.mu.Lock()
	var started, stopped []string
	for dir := range d.workers {
		if !d.owns(dir) {
			d.stopLocked(dir)
			stopped = append(stopped, dir)
		}
	}
	for _, dir := range d.source.Clusters {
		if _, ok := d.workers[dir]; ok || !d.owns(dir) {
			continue
		}
		src, ok := d.srcs[dir]
		if !ok {
			continue
		}
		d.startLocked(ctx, dir).offer(src)
		started = append(started, dir)
	}
	d.mu.Unlock()
	if len(started)+len(stopped) > 0 {
		d.log.Info("shards changed", "started", started, "stopped", stopped)
		d.changes.Notify()
	}
}

// startLocked starts the worker of the cluster in dir (d.mu held).
func (d *Daemon) startLocked(ctx context.Context, dir string) *worker {
	w := newWorker(d, dir)
	w.after = d.gone[dir]
	delete(d.gone, dir)
	if d.opts.Shards != nil {
		i := w.shard
		ctx = reconciler.WithFence(ctx, func(fctx context.Context) (string, func(), error) { return d.opts.Shards.Fence(fctx, i) })
	}
	d.workers[dir] = w
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		w.run(ctx)
	}()
	return w
}

// stopLocked stops the worker of the cluster in dir after its step in
// flight (d.mu held).
func (d *Daemon) stopLocked(dir string) {
	w := d.workers[dir]
	w.stop()
	d.gone[dir] = w.exited
	delete(d.workers, dir)
}

// shardStatesLocked are the shards with their clusters (d.mu held); nil
// when not sharded.
func (d *Daemon) shardStatesLocked() []ShardState {
	if d.opts.Shards == nil {
		return nil
	}
	states := d.opts.Shards.States()
	out := make([]ShardState, len(states))
	for i, st := range states {
		out[i] = ShardState{State: st, Clusters: []string{}}
	}
	for _, dir := range d.source.Clusters {
		if i := d.shardOf(dir); i < len(out) {
			out[i].Clusters = append(out[i].Clusters, dir)
		}
	}
	return out
}
