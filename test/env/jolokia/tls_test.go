package jolokia

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serveTLS serves a Handler over NewAgentListener on 127.0.0.1 and returns
// its address.
func serveTLS(t *testing.T, cfg *tls.Config, opts Options) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: NewHandler(testRegistry(t), opts), ConnContext: ConnContext, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(NewAgentListener(ln, cfg)) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

func testCA(t *testing.T, cn string) *TestCA {
	t.Helper()
	ca, err := NewTestCA(cn)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func issue(t *testing.T, ca *TestCA, client bool) ([]byte, []byte) {
	t.Helper()
	c, k, err := ca.Issue("agent", []net.IP{net.IPv4(127, 0, 0, 1)}, nil, client)
	if err != nil {
		t.Fatal(err)
	}
	return c, k
}

// clientCertOf is a client certificate ("ringops") issued by ca.
func clientCertOf(t *testing.T, ca *TestCA) *tls.Certificate {
	t.Helper()
	c, k, err := ca.Issue("ringops", nil, nil, true)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return &pair
}

func httpsClient(ca []byte, cert *tls.Certificate) *http.Client {
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cfg := &tls.Config{RootCAs: pool}
	if cert != nil { // sent whatever CAs the agent names (as curl does; Go's default would send none)
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, Proxy: nil}, Timeout: 5 * time.Second}
}

func tlsGet(c *http.Client, url, user, pass string) (int, error) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// TestAgentTLS: an agent with protocol=https, serverCert and serverKey
// answers over TLS to a client trusting its CA (401 without the
// password, 200 with it), fails the handshake of a client trusting
// another CA (x509 "unknown authority"), closes a plain-HTTP connection
// without a byte (as the JDK HttpsServer: net/http would answer 400),
// and refuses TLS 1.1 by closing the connection with no alert, as a real
// 2.6.0 agent on Java 17 does.
func TestAgentTLS(t *testing.T) {
	ca := testCA(t, "agents")
	cert, key := issue(t, ca, false)
	at, err := AgentTLSFromOptions(map[string]string{
		"protocol": "https", "serverCert": "/jolokia/server.crt", "serverKey": "/jolokia/server.key", "serverKeyAlgorithm": "EC",
	}, func(p string) ([]byte, error) {
		return map[string][]byte{"/jolokia/server.crt": cert, "/jolokia/server.key": key}[p], nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := at.Config()
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cfg, Options{User: "u", Password: "p"})
	url := AgentURL(addr, true) + "version"
	c := httpsClient(ca.CertPEM, nil)
	if code, err := tlsGet(c, url, "", ""); code != http.StatusUnauthorized {
		t.Errorf("without credentials: %d %v, want 401", code, err)
	}
	if code, err := tlsGet(c, url, "u", "p"); code != http.StatusOK {
		t.Errorf("with credentials: %d %v, want 200", code, err)
	}
	other := testCA(t, "other")
	var uerr x509.UnknownAuthorityError
	if _, err := tlsGet(httpsClient(other.CertPEM, nil), url, "u", "p"); !errors.As(err, &uerr) {
		t.Errorf("a client trusting another CA: %v, want x509.UnknownAuthorityError", err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, "GET /jolokia/version HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(conn); len(b) != 0 || err != nil {
		t.Errorf("plain HTTP to the HTTPS port: read %q, %v; want the connection closed without a byte", b, err)
	}
	old := httpsClient(ca.CertPEM, nil)
	// MinVersion too: crypto/tls clients refuse below TLS 1.2 themselves.
	old.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS10
	old.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS11
	if _, err := tlsGet(old, url, "u", "p"); err == nil || !strings.HasSuffix(err.Error(), "EOF") {
		t.Errorf("TLS 1.1: %v, want the connection closed with no alert (EOF)", err)
	}
}

// TestAgentTLSClientCertificates: with useSslClientAuthentication and
// caCert, a client certificate from that CA lets a request in without a
// password, one from another CA fails the handshake, and none falls back
// to basic auth; without caCert the agent does not start.
func TestAgentTLSClientCertificates(t *testing.T) {
	ca := testCA(t, "agents")
	cert, key := issue(t, ca, false)
	files := map[string][]byte{"/c": cert, "/k": key, "/ca": ca.CertPEM}
	read := func(p string) ([]byte, error) { return files[p], nil }
	opts := map[string]string{"protocol": "https", "serverCert": "/c", "serverKey": "/k", "serverKeyAlgorithm": "EC", "useSslClientAuthentication": "true"}
	at, err := AgentTLSFromOptions(opts, read)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := at.Config(); !errors.Is(err, ErrAgentStart) || !strings.Contains(err.Error(), "no CA is given with 'caCert'") {
		t.Fatalf("client authentication without caCert: %v", err)
	}
	opts["caCert"] = "/ca"
	if at, err = AgentTLSFromOptions(opts, read); err != nil {
		t.Fatal(err)
	}
	cfg, err := at.Config()
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLS(t, cfg, Options{User: "u", Password: "p", ClientCertAuth: at.ClientAuth})
	url := AgentURL(addr, true) + "version"
	clientCert := func(ca *TestCA) *tls.Certificate { return clientCertOf(t, ca) }
	if code, err := tlsGet(httpsClient(ca.CertPEM, clientCert(ca)), url, "", ""); code != http.StatusOK {
		t.Errorf("a client certificate from caCert: %d %v, want 200", code, err)
	}
	if _, err := tlsGet(httpsClient(ca.CertPEM, clientCert(testCA(t, "other"))), url, "u", "p"); err == nil {
		t.Error("a client certificate from another CA passed the handshake")
	}
	if code, err := tlsGet(httpsClient(ca.CertPEM, nil), url, "", ""); code != http.StatusUnauthorized {
		t.Errorf("no certificate, no password: %d %v, want 401", code, err)
	}
	if code, err := tlsGet(httpsClient(ca.CertPEM, nil), url, "u", "p"); code != http.StatusOK {
		t.Errorf("no certificate, the password: %d %v, want 200", code, err)
	}
}

// TestAgentTLSRefusesToStart: the configurations on which the real agent
// prints "Could not start Jolokia agent" and opens no port.
func TestAgentTLSRefusesToStart(t *testing.T) {
	ca := testCA(t, "agents")
	cert, key := issue(t, ca, false)
	_, otherKey := issue(t, ca, false)
	for _, tc := range []struct {
		name  string
		opts  map[string]string
		files map[string][]byte
		want  string
	}{
		{"key of another certificate", map[string]string{"serverCert": "/c", "serverKey": "/k", "serverKeyAlgorithm": "EC"},
			map[string][]byte{"/c": cert, "/k": otherKey}, "Private key from /k and public key from /c do not match"},
		{"EC key, RSA expected", map[string]string{"serverCert": "/c", "serverKey": "/k"},
			map[string][]byte{"/c": cert, "/k": key}, "is a EC key, serverKeyAlgorithm is RSA"},
		{"missing key file", map[string]string{"serverCert": "/c", "serverKey": "/nope", "serverKeyAlgorithm": "EC"},
			map[string][]byte{"/c": cert}, "No such server key /nope"},
		{"no serverKey", map[string]string{"serverCert": "/c"},
			map[string][]byte{"/c": cert}, "without a provided a key given with 'serverKey'"},
		{"bad protocol", map[string]string{"protocol": "tls"}, nil, "Invalid protocol 'tls'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts["protocol"] == "" {
				tc.opts["protocol"] = "https"
			}
			at, err := AgentTLSFromOptions(tc.opts, func(p string) ([]byte, error) {
				if b, ok := tc.files[p]; ok {
					return b, nil
				}
				return nil, errors.New("no such file")
			})
			if err == nil {
				_, err = at.Config()
			}
			if !errors.Is(err, ErrAgentStart) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want ErrAgentStart with %q", err, tc.want)
			}
		})
	}
	if at, err := AgentTLSFromOptions(map[string]string{"protocol": "http"}, nil); at != nil || err != nil {
		t.Errorf("protocol=http: %v, %v; want no TLS", at, err)
	}
}
