package cassandra

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ringops/ringops/test/env/jolokia"
)

// TestAgentHTTPS: a node whose pod asks for HTTPS serves it on the
// agent's port (its URL says https; a client trusting the CA reads the
// mode), and plain HTTP on the probe's port; the faults close both. A
// node whose agent cannot start (a key that is not the certificate's)
// runs on with the agent's port closed and says why, while the probe's
// plain-HTTP agent, started without TLS, answers.
func TestAgentHTTPS(t *testing.T) {
	ca, err := jolokia.NewTestCA("agents")
	if err != nil {
		t.Fatal(err)
	}
	cert, key, err := ca.Issue("agent", nil, []string{"agent"}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, otherKey, err := ca.Issue("agent", nil, []string{"agent"}, false)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "agent"}}}
	w := newWorld(t, testOptions())
	cfg := w.cfg("pvc-a", "orders-dc1-r1-0", ip(146, 1), "dc1", "r1", "orders-dc1-r1-0")
	cfg.JolokiaTLS = &jolokia.AgentTLS{ServerCert: cert, ServerKey: key, ServerKeyAlgorithm: "EC"}
	cfg.JolokiaProbePort = *testPort + 1
	a := w.start(cfg)
	if !strings.HasPrefix(a.JolokiaURL(), "https://") || a.JolokiaError() != nil {
		t.Fatalf("URL %q, error %v; want https and none", a.JolokiaURL(), a.JolokiaError())
	}
	if m, err := (agent{url: a.JolokiaURL(), client: client}).mode(); err != nil || m == "" {
		t.Errorf("HTTPS, the CA trusted: %q %v", m, err)
	}
	if _, err := agentAt(ip(146, 1)).mode(); err == nil {
		t.Error("plain HTTP on the HTTPS port answered")
	}
	probe := agent{url: fmt.Sprintf("http://%s/jolokia/", net.JoinHostPort(ip(146, 1), fmt.Sprint(*testPort+1))), client: newClient(5 * time.Second)}
	if m, err := probe.mode(); err != nil || m == "" {
		t.Errorf("probe listener: %q %v", m, err)
	}
	a.RefuseJolokia(true)
	if _, err := probe.mode(); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("refusing agent, probe listener: %v, want connection refused", err)
	}
	a.RefuseJolokia(false)

	cfgB := w.cfg("pvc-b", "orders-dc1-r2-0", ip(146, 2), "dc1", "r2", "orders-dc1-r1-0")
	cfgB.JolokiaTLS = &jolokia.AgentTLS{ServerCert: cert, ServerKey: otherKey, ServerKeyAlgorithm: "EC"}
	cfgB.JolokiaProbePort = *testPort + 1
	b := w.start(cfgB)
	if b.JolokiaURL() != "" || !errors.Is(b.JolokiaError(), jolokia.ErrAgentStart) {
		t.Errorf("agent with a foreign key: URL %q, error %v; want none and ErrAgentStart", b.JolokiaURL(), b.JolokiaError())
	}
	// Its port is bound and silent, as a real agent's that did not start
	// (test/env/jolokia TestRealAgentConforms): taken, never answered.
	silent := agentAt(ip(146, 2))
	silent.client = newClient(time.Second)
	if _, err := silent.mode(); err == nil || !strings.Contains(err.Error(), "Client.Timeout") {
		t.Errorf("agent port of an agent that did not start: %v, want a connection taken and no answer", err)
	}
	probeB := agent{url: fmt.Sprintf("http://%s/jolokia/", net.JoinHostPort(ip(146, 2), fmt.Sprint(*testPort+1))), client: newClient(5 * time.Second)}
	if m, err := probeB.mode(); err != nil || m == "" {
		t.Errorf("the probe's agent of a node whose HTTPS agent did not start: %q %v", m, err)
	}
}
