package render

import (
	"container/list"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"hash"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ringops/ringops/schemas"
)

// cacheKey identifies the inputs of a render: the spec, the context, the
// cluster directory and every file of the region's Component. Rendering is
// a pure function of them.
type cacheKey [sha256.Size]byte

func renderKey(c *schemas.CassandraCluster, clusterDir, kubeContext string, comp *component) (cacheKey, error) {
	spec, err := json.Marshal(c)
	if err != nil {
		return cacheKey{}, err
	}
	h := sha256.New()
	field(h, []byte(clusterDir))
	field(h, []byte(kubeContext))
	field(h, spec)
	if comp != nil {
		names := make([]string, 0, len(comp.files))
		for name := range comp.files {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			field(h, []byte(name))
			field(h, comp.files[name])
		}
	}
	var k cacheKey
	h.Sum(k[:0])
	return k, nil
}

// field writes b length-prefixed, so that fields cannot run into each other.
func field(h hash.Hash, b []byte) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(b)))
	h.Write(n[:])
	h.Write(b)
}

// cache remembers the last renders, least recently used out first. It
// holds them encoded: callers may modify what they get.
type cache struct {
	mu      sync.Mutex
	max     int
	order   *list.List // of *entry, most recent first
	entries map[cacheKey]*list.Element
}

// entry holds a render as JSON, an object per element: a third of the
// memory of the decoded objects (a daemon remembers a render per cluster
// and region), and a fresh copy at each get.
type entry struct {
	key  cacheKey
	objs [][]byte
}

func newCache(max int) *cache {
	if max <= 0 {
		return nil
	}
	return &cache{max: max, order: list.New(), entries: map[cacheKey]*list.Element{}}
}

// get returns a copy of the objects rendered for key, if remembered.
func (c *cache) get(key cacheKey) ([]*unstructured.Unstructured, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	e, ok := c.entries[key]
	if ok {
		c.order.MoveToFront(e)
	}
	c.mu.Unlock()
	if !ok {
		return nil, false
	}
	objs, err := decodeObjects(e.Value.(*entry).objs)
	return objs, err == nil
}

// put remembers objs for key, encoded.
func (c *cache) put(key cacheKey, objs []*unstructured.Unstructured) {
	if c == nil {
		return
	}
	cp, err := encodeObjects(objs)
	if err != nil {
		return // not remembered: rendered again next time
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		c.order.MoveToFront(e)
		return
	}
	c.entries[key] = c.order.PushFront(&entry{key: key, objs: cp})
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.entries, last.Value.(*entry).key)
	}
}

func encodeObjects(objs []*unstructured.Unstructured) ([][]byte, error) {
	out := make([][]byte, len(objs))
	for i, u := range objs {
		b, err := u.MarshalJSON()
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}

// decodeObjects decodes what encodeObjects encoded (integers as int64,
// as the objects were built).
func decodeObjects(objs [][]byte) ([]*unstructured.Unstructured, error) {
	out := make([]*unstructured.Unstructured, len(objs))
	for i, b := range objs {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(b); err != nil {
			return nil, err
		}
		out[i] = u
	}
	return out, nil
}
