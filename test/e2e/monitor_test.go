package e2e

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/ringops/ringops/test/env"
)

// monitor watches one cluster while ringops works on it: the simulator's
// ground truth of the ring (sampled every 20 ms), and every change to its
// StatefulSets and pods in every region (watches).
type monitor struct {
	cluster string
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu sync.Mutex
	// overlaps are ring samples where more than one node was not up and
	// NORMAL: two disruptive steps at once.
	overlaps []string
	// joined lists the pods in the order they first appeared in the ring.
	joined []string
	inRing map[string]bool
	// jumps are StatefulSet writes that moved replicas by more than one.
	jumps    []string
	replicas map[string]int32
	// uids are the successive UIDs of each pod: one per (re)creation.
	uids map[string][]string
	// deleted are the StatefulSets and PVCs deleted: they hold data.
	deleted []string
}

// watchCluster starts a monitor of cluster in w; Stop ends it.
func watchCluster(t *testing.T, w *env.World, cluster string) *monitor {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m := &monitor{cluster: cluster, cancel: cancel, inRing: map[string]bool{}, replicas: map[string]int32{}, uids: map[string][]string{}}
	m.wg.Go(func() { m.sampleRing(ctx, w) })
	for _, r := range w.Regions() {
		m.wg.Go(func() { m.watch(ctx, r, "statefulsets") })
		m.wg.Go(func() { m.watch(ctx, r, "pods") })
		m.wg.Go(func() { m.watch(ctx, r, "persistentvolumeclaims") })
	}
	t.Cleanup(m.Stop)
	return m
}

// Stop ends the monitor (idempotent).
func (m *monitor) Stop() {
	m.cancel()
	m.wg.Wait()
}

func (m *monitor) sampleRing(ctx context.Context, w *env.World) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		var busy []string
		nodes := w.Sim.Ring(m.cluster)
		m.mu.Lock()
		for _, n := range nodes {
			if !m.inRing[n.Pod] {
				m.inRing[n.Pod] = true
				m.joined = append(m.joined, n.Pod)
			}
			if !n.Alive || n.Mode != "NORMAL" || n.Status != "NORMAL" {
				busy = append(busy, fmt.Sprintf("%s(alive=%t mode=%s status=%s)", n.Pod, n.Alive, n.Mode, n.Status))
			}
		}
		if len(busy) > 1 {
			m.overlaps = append(m.overlaps, time.Now().Format("15:04:05.000")+" "+strings.Join(busy, ", "))
		}
		m.mu.Unlock()
	}
}

// watch follows one kind in one region until ctx ends.
func (m *monitor) watch(ctx context.Context, r *env.Region, kind string) {
	opts := metav1.ListOptions{LabelSelector: "ringops.dev/cluster=" + m.cluster}
	for ctx.Err() == nil {
		var w watch.Interface
		var err error
		switch kind {
		case "pods":
			w, err = r.Client.CoreV1().Pods("cassandra").Watch(ctx, opts)
		case "persistentvolumeclaims":
			w, err = r.Client.CoreV1().PersistentVolumeClaims("cassandra").Watch(ctx, opts)
		default:
			w, err = r.Client.AppsV1().StatefulSets("cassandra").Watch(ctx, opts)
		}
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		m.drain(ctx, w, r.Name)
		w.Stop()
	}
}

func (m *monitor) drain(ctx context.Context, w watch.Interface, region string) {
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-w.ResultChan():
			if !ok {
				return
			}
			m.record(ev, region)
		}
	}
}

func (m *monitor) record(ev watch.Event, region string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch o := ev.Object.(type) {
	case *corev1.Pod:
		key := region + "/" + o.Name
		if ev.Type != watch.Deleted && !slices.Contains(m.uids[key], string(o.UID)) {
			m.uids[key] = append(m.uids[key], string(o.UID))
		}
	case *corev1.PersistentVolumeClaim:
		if ev.Type == watch.Deleted {
			m.deleted = append(m.deleted, region+"/pvc/"+o.Name)
		}
	case *appsv1.StatefulSet:
		sts := int32(1)
		if o.Spec.Replicas != nil {
			sts = *o.Spec.Replicas
		}
		key := region + "/" + o.Name
		if ev.Type == watch.Deleted {
			m.deleted = append(m.deleted, region+"/statefulset/"+o.Name)
			delete(m.replicas, key)
			return
		}
		if old, seen := m.replicas[key]; seen && (sts-old > 1 || old-sts > 1) {
			m.jumps = append(m.jumps, fmt.Sprintf("%s: replicas %d -> %d", key, old, sts))
		}
		m.replicas[key] = sts
	}
}

// Deleted are the StatefulSets and PVCs deleted.
func (m *monitor) Deleted() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.deleted)
}

// Overlaps are the samples with two nodes busy at once.
func (m *monitor) Overlaps() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.overlaps)
}

// Joined is the order in which pods first appeared in the ring.
func (m *monitor) Joined() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.joined)
}

// Jumps are the StatefulSet writes that moved replicas by more than one.
func (m *monitor) Jumps() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.jumps)
}

// Creations counts, per "<region>/<pod>", the pods created under that
// name (1: never restarted by deletion).
func (m *monitor) Creations() map[string]int {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]int{}
	for k, v := range m.uids {
		out[k] = len(v)
	}
	return out
}

// Reset forgets the pods' creations (before the next change).
func (m *monitor) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.uids {
		m.uids[k] = v[len(v)-1:]
	}
}

func sortedKeys[V any](mp map[string]V) []string {
	keys := make([]string, 0, len(mp))
	for k := range mp {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
