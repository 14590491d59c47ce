package realcassandra

import (
	"fmt"
	"net"
	"sync"
)

// portPool hands out local JMX ports: every node's JMX listens on
// 127.0.0.1 (Cassandra's local-only JMX), so each needs its own port. A
// port is taken from the kernel (a free ephemeral port) and not handed out
// again while a node holds it.
type portPool struct {
	mu    sync.Mutex
	inUse map[int]bool
}

func newPortPool() *portPool { return &portPool{inUse: map[int]bool{}} }

func (p *portPool) allocate() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("jmx port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !p.inUse[port] {
			p.inUse[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("jmx port: no free port")
}

func (p *portPool) release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}
