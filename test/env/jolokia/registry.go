package jolokia

import (
	"fmt"
	"slices"
	"sync"
)

// MapRegistry is a Registry held in memory, safe for concurrent use.
type MapRegistry struct {
	mu    sync.RWMutex
	beans map[string]entry // by canonical name
}

type entry struct {
	name string // as registered
	bean MBean
}

var _ Registry = (*MapRegistry)(nil)

// NewMapRegistry returns an empty registry.
func NewMapRegistry() *MapRegistry { return &MapRegistry{beans: map[string]entry{}} }

// Register adds mb under name (any property order), replacing what was there.
func (m *MapRegistry) Register(name string, mb MBean) error {
	on, err := parseObjectName(name)
	if err != nil {
		return fmt.Errorf("mbean %q: %w", name, err)
	}
	if on.isPattern() {
		return fmt.Errorf("mbean %q: a pattern cannot be registered", name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.beans[on.canonical()] = entry{name: name, bean: mb}
	return nil
}

// Unregister removes the MBean registered under name, if any.
func (m *MapRegistry) Unregister(name string) {
	on, err := parseObjectName(name)
	if err != nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.beans, on.canonical())
}

// Lookup finds an MBean by its name in any property order.
func (m *MapRegistry) Lookup(name string) (MBean, bool) {
	on, err := parseObjectName(name)
	if err != nil {
		return nil, false
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	e, ok := m.beans[on.canonical()]
	return e.bean, ok
}

// Names lists the names as registered, sorted.
func (m *MapRegistry) Names() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	names := make([]string, 0, len(m.beans))
	for _, e := range m.beans {
		names = append(names, e.name)
	}
	slices.Sort(names)
	return names
}
