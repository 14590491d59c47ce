package jolokia

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ringops/ringops/test/tools/cassandra"
)

// The real Jolokia 2.6.0 JVM agent, the one ringops injects into Cassandra
// pods, started in a bare JVM on Java 17: TestRealAgentConforms holds the
// simulated agent's authentication and HTTPS (auth.go, tls.go) to it.

// idleJava is the JVM's main: it sleeps until killed.
const idleJava = `public class Idle { public static void main(String[] a) throws Exception { Thread.sleep(Long.MAX_VALUE); } }`

// realAgentJVM finds java, javac and the cached agent jar, and compiles
// Idle once; it skips when no JDK is installed (outside CI).
func realAgentJVM(t *testing.T) (java, classes, jar string) {
	t.Helper()
	for _, tool := range []string{"java", "javac"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("the real agent needs a JDK: %s: %v", tool, err)
			}
			t.Skipf("the real agent needs a JDK (%s: %v); install openjdk-17-jdk-headless", tool, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	dir, err := cassandra.Find(ctx)
	if err != nil {
		t.Fatalf("the Jolokia agent jar: %v", err)
	}
	classes = t.TempDir()
	src := filepath.Join(classes, "Idle.java")
	if err := os.WriteFile(src, []byte(idleJava), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("javac", "-d", classes, src).CombinedOutput(); err != nil {
		t.Fatalf("javac Idle.java: %v\n%s", err, out)
	}
	java, _ = exec.LookPath("java")
	return java, classes, cassandra.AgentJar(dir)
}

// startRealAgent starts a JVM with the agent on 127.0.0.1 and the given
// options, and waits for the agent to say it started or could not (it
// starts on a thread of its own, beside main). It returns the agent's address and the JVM's
// output so far. The JVM is killed, by its PID, when the test ends.
func startRealAgent(t *testing.T, java, classes, jar string, opts map[string]string) (addr, output string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr = ln.Addr().String()
	_ = ln.Close()
	_, port, _ := net.SplitHostPort(addr)
	args := []string{"host=127.0.0.1", "port=" + port, "discoveryEnabled=false"}
	keys := make([]string, 0, len(opts))
	for k := range opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, k+"="+opts[k])
	}
	cmd := exec.Command(java, "-Xshare:auto", "-XX:TieredStopAtLevel=1", "-javaagent:"+jar+"="+strings.Join(args, ","), "-cp", classes, "Idle")
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = pw.Close()
	})
	var (
		mu  sync.Mutex
		out strings.Builder
	)
	up := make(chan struct{})
	var once sync.Once
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			mu.Lock()
			out.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if l := sc.Text(); strings.Contains(l, "Jolokia: Agent") || strings.Contains(l, "Could not start Jolokia agent") {
				once.Do(func() { close(up) })
			}
		}
	}()
	select {
	case <-up:
	case <-time.After(time.Minute):
		mu.Lock()
		defer mu.Unlock()
		t.Fatalf("the agent said nothing in a minute:\n%s", out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	return addr, out.String()
}

// outcome is what a client sees of one request: the status and the
// challenge of an answer, or the failure.
type outcome struct {
	Status    int
	Challenge string
	Err       string
}

func (o outcome) String() string {
	if o.Err != "" {
		return "error: " + o.Err
	}
	return fmt.Sprintf("%d %q", o.Status, o.Challenge)
}

// ask sends GET <url>version with the credentials and sums the result up.
// Failures are told by kind, not by text: an unknown certificate
// authority, a TLS alert from the agent (by its name), a connection
// closed before an answer.
func ask(c *http.Client, url, user, pass string) outcome {
	req, _ := http.NewRequest(http.MethodGet, url+"version", nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		var uerr x509.UnknownAuthorityError
		var alert tls.AlertError
		switch {
		case errors.As(err, &uerr):
			return outcome{Err: "x509: unknown authority"}
		case errors.As(err, &alert):
			return outcome{Err: "tls alert: " + alert.Error()}
		case strings.Contains(err.Error(), "remote error: tls: "):
			return outcome{Err: "tls alert: " + err.Error()[strings.Index(err.Error(), "remote error: tls: ")+len("remote error: tls: "):]}
		case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.EOF) || strings.HasSuffix(err.Error(), "EOF") ||
			strings.HasSuffix(err.Error(), "server closed idle connection"):
			// A reset, an EOF, or net/http's "server closed idle
			// connection" (the close read before the request went out:
			// with TLS 1.3 the client's handshake ends before the agent
			// has judged its certificate), by the race between the
			// agent's close and the client's request.
			return outcome{Err: "closed without an answer"}
		}
		return outcome{Err: err.Error()}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return outcome{Status: resp.StatusCode, Challenge: resp.Header.Get("WWW-Authenticate")}
}

// plainBytes sends a plain-HTTP request to addr and returns what comes back
// before the connection closes, or within wait.
func plainBytes(t *testing.T, addr string, wait time.Duration) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		return "dial: " + err.Error()
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(wait))
	if _, err := io.WriteString(conn, "GET /jolokia/version HTTP/1.0\r\n\r\n"); err != nil {
		return "write: " + err.Error()
	}
	b, err := io.ReadAll(conn)
	if err != nil {
		return fmt.Sprintf("%q, then %v", b, err)
	}
	if len(b) == 0 {
		return "closed without a byte"
	}
	status, _, _ := strings.Cut(string(b), "\r\n")
	return status
}

// serveSim serves a Handler answering as the 2.6.0 agent with the same
// options: over HTTPS when they ask for it (AgentTLSFromOptions reading the
// same files), else plain HTTP.
func serveSim(t *testing.T, opts map[string]string) (addr string, startErr error) {
	t.Helper()
	at, err := AgentTLSFromOptions(opts, os.ReadFile)
	var cfg *tls.Config
	if err == nil && at != nil {
		cfg, err = at.Config()
	}
	if err != nil {
		return "", err
	}
	o := DefaultOptions()
	o.User, o.Password, o.Version = opts["user"], opts["password"], Agent2Version
	o.ClientCertAuth = at != nil && at.ClientAuth
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: NewHandler(testRegistry(t), o), ConnContext: ConnContext, ReadHeaderTimeout: 5 * time.Second}
	l := ln
	if cfg != nil {
		l = NewAgentListener(ln, cfg)
	}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String(), nil
}

// TestRealAgentConforms starts the real Jolokia 2.6.0 agent on Java 17 and
// the simulated agent with the same options and the same files, asks both
// the same questions, and requires the same outcomes: basic auth (the
// challenge, wrong and right passwords), HTTPS with a server certificate
// and key (clients trusting the CA or another, TLS 1.1, plain HTTP on the
// HTTPS port), client certificates with caCert and
// useSslClientAuthentication (another CA's: the connection closed), and the
// configurations on which the agent does not start (its message; its port
// bound and silent). About 10 s of CPU: five small JVMs.
func TestRealAgentConforms(t *testing.T) {
	java, classes, jar := realAgentJVM(t)
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca, other := testCA(t, "agents"), testCA(t, "other")
	cert, key := issue(t, ca, false)
	_, strayKey := issue(t, ca, false)
	certPath, keyPath, caPath := write("server.crt", cert), write("server.key", key), write("ca.crt", ca.CertPEM)
	strayKeyPath := write("stray.key", strayKey)
	clientCert := func(ca *TestCA) *tls.Certificate { return clientCertOf(t, ca) }
	tls11 := httpsClient(ca.CertPEM, nil)
	tls11.Transport.(*http.Transport).TLSClientConfig.MinVersion = tls.VersionTLS10 // crypto/tls refuses below 1.2 by itself
	tls11.Transport.(*http.Transport).TLSClientConfig.MaxVersion = tls.VersionTLS11
	plain := &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 5 * time.Second}

	type question struct {
		name       string
		client     *http.Client
		user, pass string
	}
	https := map[string]string{"protocol": "https", "serverCert": certPath, "serverKey": keyPath, "serverKeyAlgorithm": "EC"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, tc := range []struct {
		name      string
		opts      map[string]string
		questions []question
		plainPort bool // also send plain HTTP to the HTTPS port
	}{
		{"http with a password", map[string]string{"user": "ringops", "password": "s3cret"}, []question{
			{"no credentials", plain, "", ""},
			{"a wrong password", plain, "ringops", "nope"},
			{"the password", plain, "ringops", "s3cret"},
		}, false},
		{"https with a password", with(https, "user", "ringops", "password", "s3cret"), []question{
			{"trusting the CA, no credentials", httpsClient(ca.CertPEM, nil), "", ""},
			{"trusting the CA, the password", httpsClient(ca.CertPEM, nil), "ringops", "s3cret"},
			{"trusting another CA", httpsClient(other.CertPEM, nil), "ringops", "s3cret"},
			{"TLS 1.1 at most", tls11, "ringops", "s3cret"},
		}, true},
		{"https with client certificates", with(https, "user", "ringops", "password", "s3cret", "caCert", caPath, "useSslClientAuthentication", "true"), []question{
			{"a certificate from caCert, no password", httpsClient(ca.CertPEM, clientCert(ca)), "", ""},
			{"a certificate from another CA", httpsClient(ca.CertPEM, clientCert(other)), "ringops", "s3cret"},
			{"no certificate, no password", httpsClient(ca.CertPEM, nil), "", ""},
			{"no certificate, the password", httpsClient(ca.CertPEM, nil), "ringops", "s3cret"},
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			realAddr, out := startRealAgent(t, java, classes, jar, tc.opts)
			if !strings.Contains(out, "Jolokia: Agent 2.6.0 started") {
				t.Fatalf("the real agent did not start:\n%s", out)
			}
			simAddr, err := serveSim(t, tc.opts)
			if err != nil {
				t.Fatalf("the simulated agent refused options the real one started with: %v", err)
			}
			scheme := tc.opts["protocol"] == "https"
			for _, q := range tc.questions {
				real, sim := ask(q.client, AgentURL(realAddr, scheme), q.user, q.pass), ask(q.client, AgentURL(simAddr, scheme), q.user, q.pass)
				if real != sim {
					t.Errorf("%s: the real agent: %v; the simulated one: %v", q.name, real, sim)
				} else {
					t.Logf("%s: %v", q.name, real)
				}
			}
			if tc.plainPort {
				if real, sim := plainBytes(t, realAddr, 5*time.Second), plainBytes(t, simAddr, 5*time.Second); real != sim {
					t.Errorf("plain HTTP on the HTTPS port: the real agent: %s; the simulated one: %s", real, sim)
				}
			}
		})
	}

	// Options the real agent does not start with: it says why on the
	// JVM's output and opens no port; the simulated one fails with the
	// same words.
	for _, tc := range []struct {
		name string
		opts map[string]string
	}{
		{"the key of another certificate", with(https, "serverKey", strayKeyPath)},
		{"client certificates without caCert", with(https, "useSslClientAuthentication", "true")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			realAddr, out := startRealAgent(t, java, classes, jar, tc.opts)
			if !strings.Contains(out, "Could not start Jolokia agent") {
				t.Fatalf("the real agent started:\n%s", out)
			}
			// Its port stays bound and silent (the JDK server was created,
			// never started): test/env/cassandra's simulated node does the
			// same (TestAgentHTTPS).
			if got := plainBytes(t, realAddr, time.Second); !strings.Contains(got, "i/o timeout") {
				t.Errorf("the port of the real agent that did not start: %s; want a connection taken and no answer", got)
			}
			_, err := serveSim(t, tc.opts)
			if !errors.Is(err, ErrAgentStart) {
				t.Fatalf("the simulated agent: %v, want ErrAgentStart", err)
			}
			msg := strings.TrimPrefix(err.Error(), ErrAgentStart.Error()+": ")
			if !strings.Contains(out, msg) {
				t.Errorf("the simulated agent says %q; the real one:\n%s", msg, out)
			}
		})
	}
}
