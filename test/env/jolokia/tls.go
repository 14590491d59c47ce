package jolokia

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AgentTLS is the HTTPS of a JVM agent started with protocol=https, from
// the agent's options (AgentTLSFromOptions). Config builds the server's
// TLS as Jolokia 2.6.0's JolokiaServer.createHttpsServer does
// (agent/jvm/src/main/java/org/jolokia/jvmagent/JolokiaServer.java:435-466,
// getKeyStore :503-529, updateKeyStoreFromPEM :536-562; the PEM reading in
// security/KeyStoreUtil.java updateWithServerCertificate :97-121 and
// core's CryptoUtil; ClientCertAuthenticator in any-match with basic auth,
// JolokiaServerConfig.java:533-565).
type AgentTLS struct {
	// ServerCert is the file serverCert names: every certificate of it, in
	// PEM, is the chain served (the agent's own first). Nil: a self-signed
	// certificate is made at start, as the agent does without serverCert.
	ServerCert []byte
	// ServerKey is the file serverKey names: the key of the first
	// certificate, PEM in PKCS#8, PKCS#1 (RSA) or SEC 1 (EC).
	ServerKey []byte
	// ServerKeyAlgorithm is serverKeyAlgorithm: the algorithm the key
	// must be of, "RSA" (the agent's default) or "EC".
	ServerKeyAlgorithm string
	// CACert is the file caCert names: the CA certificates client
	// certificates must chain to (PEM, several allowed).
	CACert []byte
	// ClientAuth is useSslClientAuthentication: the agent asks for a
	// client certificate without requiring one (setWantClientAuth,
	// JolokiaHttpsConfigurator.java:33-34), refuses the handshake of one
	// that does not chain to caCert, and lets a request over a connection
	// that presented a good one in without a password
	// (ClientCertAuthenticator, in any-match with basic auth).
	ClientAuth bool
	// ServerCertPath and ServerKeyPath are the paths the options named,
	// for the errors.
	ServerCertPath, ServerKeyPath string
}

// ErrAgentStart marks the configurations on which the JVM agent does not
// start ("Could not start Jolokia agent: ..." on stderr, the JVM runs on
// without it): its port is not opened.
var ErrAgentStart = errors.New("could not start Jolokia agent")

// AgentTLSFromOptions is the HTTPS an agent's options ask for (its
// properties file overridden by the -javaagent arguments, as
// JvmAgentConfig merges them), nil for protocol=http (the default). read
// returns the content of a file the options name (serverCert, serverKey,
// caCert) as the JVM sees it. A keystore is not simulated: an error.
func AgentTLSFromOptions(opts map[string]string, read func(path string) ([]byte, error)) (*AgentTLS, error) {
	switch p := opts["protocol"]; p {
	case "", "http":
		return nil, nil
	case "https":
	default: // JolokiaServerConfig.initProtocol, :611-616
		return nil, fmt.Errorf("%w: java.lang.IllegalArgumentException: Invalid protocol '%s'. Must be either 'http' or 'https'", ErrAgentStart, p)
	}
	if ks := opts["keystore"]; ks != "" {
		return nil, fmt.Errorf("%w: keystore %s: the simulator reads PEM files only (serverCert, serverKey, caCert)", ErrAgentStart, ks)
	}
	t := &AgentTLS{
		ServerKeyAlgorithm: opts["serverKeyAlgorithm"],
		ClientAuth:         strings.EqualFold(opts["useSslClientAuthentication"], "true"), // Boolean.parseBoolean
		ServerCertPath:     opts["serverCert"],
		ServerKeyPath:      opts["serverKey"],
	}
	file := func(path, what string) ([]byte, error) {
		b, err := read(path)
		if err != nil { // getAndValidateFile, JolokiaServer.java:564-573
			return nil, fmt.Errorf("%w: java.io.FileNotFoundException: No such %s %s: %w", ErrAgentStart, what, path, err)
		}
		return b, nil
	}
	var err error
	if p := opts["caCert"]; p != "" {
		if t.CACert, err = file(p, "CA cert"); err != nil {
			return nil, err
		}
	}
	if p := t.ServerCertPath; p != "" {
		if t.ServerCert, err = file(p, "server cert"); err != nil {
			return nil, err
		}
		if t.ServerKeyPath == "" {
			return nil, fmt.Errorf("%w: java.lang.IllegalArgumentException: Cannot use server cert from %s without a provided a key given with 'serverKey'", ErrAgentStart, p)
		}
		if t.ServerKey, err = file(t.ServerKeyPath, "server key"); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Config is the server's TLS. It fails (ErrAgentStart) where the agent
// fails to start: client authentication without caCert, a certificate or
// key that cannot be read, a key of another algorithm than
// serverKeyAlgorithm, a key that does not match a lone certificate. As
// the JDK 17 the agent runs on: TLS 1.2 and 1.3 (1.0 and 1.1 are disabled
// by jdk.tls.disabledAlgorithms).
func (t *AgentTLS) Config() (*tls.Config, error) {
	fail := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrAgentStart}, a...)...)
	}
	if t.ClientAuth && len(t.CACert) == 0 {
		return nil, fail("java.lang.IllegalArgumentException: Cannot use client cert authentication if no CA is given with 'caCert'")
	}
	cas, err := parseCerts(t.CACert)
	if err != nil {
		return nil, fail("Cannot use keystore for https communication: caCert: %v", err)
	}
	cert, err := t.certificate()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if t.ClientAuth {
		// The trust manager is built from the same keystore: the CA
		// certificates and the server's own chain.
		pool := x509.NewCertPool()
		for _, c := range cas {
			pool.AddCert(c)
		}
		for _, der := range cert.Certificate {
			if c, err := x509.ParseCertificate(der); err == nil {
				pool.AddCert(c)
			}
		}
		// The certificate is asked for, not required (setWantClientAuth),
		// and checked by the agent listener after the handshake: a real
		// agent resets the connection of a client whose certificate does
		// not chain to caCert, where crypto/tls would send an alert.
		cfg.ClientCAs, cfg.ClientAuth = pool, tls.RequestClientCert
	}
	return cfg, nil
}

// certificate is serverCert and serverKey, or a self-signed one.
func (t *AgentTLS) certificate() (tls.Certificate, error) {
	if t.ServerCert == nil {
		return selfSigned()
	}
	fail := func(format string, a ...any) (tls.Certificate, error) {
		return tls.Certificate{}, fmt.Errorf("%w: Cannot use keystore for https communication: "+format, append([]any{ErrAgentStart}, a...)...)
	}
	chain, err := parseCerts(t.ServerCert)
	if err != nil || len(chain) == 0 {
		return fail("serverCert %s: no certificate (%v)", t.ServerCertPath, err)
	}
	key, err := parseKey(t.ServerKey)
	if err != nil {
		return fail("serverKey %s: %v", t.ServerKeyPath, err)
	}
	algo := t.ServerKeyAlgorithm
	if algo == "" {
		algo = "RSA" // default-jolokia-agent.properties
	}
	if got := keyAlgorithm(key); !strings.EqualFold(got, algo) {
		// CryptoUtil.generatePrivateKey: KeyFactory.getInstance(algo) cannot read another algorithm's key.
		return fail("java.security.spec.InvalidKeySpecException: serverKey %s is a %s key, serverKeyAlgorithm is %s", t.ServerKeyPath, got, algo)
	}
	if len(chain) == 1 && !publicMatches(key, chain[0].PublicKey) { // KeyStoreUtil.java:113-115 (one certificate only)
		return tls.Certificate{}, fmt.Errorf("%w: java.lang.IllegalArgumentException: Private key from %s and public key from %s do not match", ErrAgentStart, t.ServerKeyPath, t.ServerCertPath)
	}
	out := tls.Certificate{PrivateKey: key, Leaf: chain[0]}
	for _, c := range chain {
		out.Certificate = append(out.Certificate, c.Raw)
	}
	return out, nil
}

// parseCerts reads every certificate of a PEM bundle (or one DER).
func parseCerts(b []byte) ([]*x509.Certificate, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var out []*x509.Certificate
	for rest := b; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		c, err := x509.ParseCertificate(b)
		if err != nil {
			return nil, errors.New("no PEM certificate, nor a DER one")
		}
		out = append(out, c)
	}
	return out, nil
}

// parseKey reads an unencrypted private key: PKCS#8, PKCS#1 or SEC 1, in
// PEM or DER.
func parseKey(b []byte) (crypto.Signer, error) {
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		der = blk.Bytes
	}
	if k, err := x509.ParsePKCS8PrivateKey(der); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
	}
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(der); err == nil {
		return k, nil
	}
	return nil, errors.New("no unencrypted PKCS#8, PKCS#1 or SEC 1 private key")
}

func keyAlgorithm(k crypto.Signer) string {
	switch k.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "EC"
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return fmt.Sprintf("%T", k)
}

func publicMatches(k crypto.Signer, pub crypto.PublicKey) bool {
	p, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
	return ok && p.Equal(pub)
}

// selfSigned is the certificate the agent makes without serverCert
// (KeyStoreUtil.updateWithSelfSignedServerCertificate): self-signed, one
// year, CN=Jolokia Agent <version>. The agent's key has 4096 bits; this
// one 2048, to start quickly (no client can trust it anyway).
func selfSigned() (tls.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: "Jolokia Agent " + Agent2Version, OrganizationalUnit: []string{"JVM"}, Organization: []string{"jolokia.org"}},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     now.AddDate(1, 0, 0),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}

// NewAgentListener serves TLS on ln as the JDK's HttpsServer does: a
// client that speaks plain HTTP (or anything but TLS) to it has its
// connection closed without a byte, where net/http would answer "400
// Client sent an HTTP request to an HTTPS server" (seen against a real
// 2.6.0 agent: curl "Empty reply from server"). Serve it with an
// http.Server whose ConnContext is ConnContext, so that the Handler sees
// the client's certificate.
func NewAgentListener(ln net.Listener, cfg *tls.Config) net.Listener {
	return &agentListener{Listener: ln, cfg: cfg}
}

type agentListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *agentListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	m := &quietConn{Conn: c}
	return &agentConn{Conn: tls.Server(m, l.cfg), raw: m, cfg: l.cfg}, nil
}

// agentConn hides the *tls.Conn from net/http (which writes its 400 to a
// plain-HTTP client), and ends a failed handshake by closing the socket
// without a word, as the JDK's HttpsServer does.
type agentConn struct {
	*tls.Conn
	raw  *quietConn
	cfg  *tls.Config
	once sync.Once
	err  error
}

// handshake runs the TLS handshake once, then checks the client's
// certificate, if it sent one, against the CAs the agent trusts
// (ClientCAs, with RequestClientCert). A failed handshake (a client
// offering only TLS 1.1, say) or a certificate that does not chain to
// caCert, or is not for client authentication, closes the connection
// with no alert: the client reads EOF (or a reset, when its request
// arrived first), as from a real 2.6.0 agent on Java 17, where crypto/tls
// would send an alert (TestRealAgentConforms).
func (c *agentConn) handshake() error {
	c.once.Do(func() {
		c.raw.quiet.Store(true)
		c.err = c.Handshake()
		c.raw.quiet.Store(false)
		if c.err != nil {
			_ = c.raw.Close()
			return
		}
		st := c.ConnectionState()
		if len(st.PeerCertificates) == 0 || c.cfg == nil || c.cfg.ClientCAs == nil {
			return
		}
		inter := x509.NewCertPool()
		for _, ic := range st.PeerCertificates[1:] {
			inter.AddCert(ic)
		}
		if _, err := st.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: c.cfg.ClientCAs, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			c.err = fmt.Errorf("client certificate: %w", err)
			_ = c.raw.Close()
		}
	})
	return c.err
}

// quietConn drops the TLS alerts crypto/tls writes in the clear while it
// handshakes (records of content type 21): the JDK's HttpsServer closes a
// failed handshake without sending its alert.
type quietConn struct {
	net.Conn
	quiet atomic.Bool
}

func (q *quietConn) Write(b []byte) (int, error) {
	if q.quiet.Load() && len(b) > 0 && b[0] == 21 {
		return len(b), nil
	}
	return q.Conn.Write(b)
}

func (c *agentConn) Read(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *agentConn) Write(b []byte) (int, error) {
	if err := c.handshake(); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

type tlsStateKey struct{}

// ConnContext is the http.Server's ConnContext of an agent listener
// (NewAgentListener): it hands the connection's TLS to the Handler.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	if ac, ok := c.(*agentConn); ok {
		return context.WithValue(ctx, tlsStateKey{}, ac.Conn)
	}
	return ctx
}

// peerCertified tells whether the request came over an agent listener's
// connection that presented a client certificate (verified after the
// handshake by agentConn: the others never reach the handler).
func peerCertified(ctx context.Context) bool {
	c, ok := ctx.Value(tlsStateKey{}).(*tls.Conn)
	return ok && len(c.ConnectionState().PeerCertificates) > 0
}

// AgentURL is the URL of an agent at hostPort: https with TLS.
func AgentURL(hostPort string, https bool) string {
	scheme := "http"
	if https {
		scheme = "https"
	}
	return scheme + "://" + hostPort + AgentContext
}
