package kubelet

import (
	"errors"
	"sync"
)

// ErrNoIP is returned when every pod IP of the range is in use.
var ErrNoIP = errors.New("no free pod IP")

// ipPool hands out the addresses of a range round robin, so that a released
// IP is reused as late as possible (peers may still gossip about it).
type ipPool struct {
	mu    sync.Mutex
	r     IPRange
	next  int
	inUse map[string]bool
}

func newIPPool(r IPRange) *ipPool { return &ipPool{r: r, inUse: map[string]bool{}} }

func (p *ipPool) allocate() (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for range p.r.size() {
		ip := p.r.IP(p.next)
		p.next = (p.next + 1) % p.r.size()
		if !p.inUse[ip] {
			p.inUse[ip] = true
			return ip, nil
		}
	}
	return "", ErrNoIP
}

func (p *ipPool) release(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inUse, ip)
}
