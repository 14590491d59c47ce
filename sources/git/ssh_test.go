package git

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

const sshdPath = "/usr/sbin/sshd"

// sshServer is Debian's sshd on a loopback address, started for one test,
// letting the current user in with generated client keys.
type sshServer struct {
	addr       string // host:port
	user       string
	knownHosts string // known_hosts file holding the server's host key
	hostKey    ssh.PublicKey
	log        *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// logins counts accepted SSH logins so far (one per git connection).
func (s *sshServer) logins() int { return strings.Count(s.log.String(), "Accepted publickey") }

// url returns the ssh:// URL of the repository at path on this server.
func (s *sshServer) url(path string) string {
	return "ssh://" + s.user + "@" + s.addr + path
}

// requireSSHD skips when sshd cannot be run the way the tests need it.
func requireSSHD(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s missing: apt-get install openssh-server", sshdPath)
	}
	if os.Geteuid() != 0 {
		t.Skip("sshd tests run sshd as root (to log the current user in with privilege separation)")
	}
	// Debian's sshd refuses to start without its privilege separation
	// directory, which its service unit normally creates.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("cannot create /run/sshd for sshd: %v", err)
	}
}

// freePort returns a port free on 127.0.0.1 at the time of asking.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startSSHD runs sshd on host:port letting in the given client keys.
func startSSHD(t testing.TB, host string, port int, clients ...ssh.PublicKey) *sshServer {
	t.Helper()
	requireSSHD(t)
	dir := t.TempDir()
	hostPub, hostPEM := newSSHKey(t, "")
	hostKeyFile := filepath.Join(dir, "host_key")
	must(t, os.WriteFile(hostKeyFile, hostPEM, 0o600))
	var authorized []byte
	for _, c := range clients {
		authorized = append(authorized, ssh.MarshalAuthorizedKey(c)...)
	}
	authFile := filepath.Join(dir, "authorized_keys")
	must(t, os.WriteFile(authFile, authorized, 0o600))
	me, err := user.Current()
	must(t, err)
	cfg := fmt.Sprintf(`Port %d
ListenAddress %s
HostKey %s
AuthorizedKeysFile %s
PidFile %s
AllowUsers %s
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
LogLevel VERBOSE
UseDNS no
`, port, host, hostKeyFile, authFile, filepath.Join(dir, "sshd.pid"), me.Username)
	cfgFile := filepath.Join(dir, "sshd_config")
	must(t, os.WriteFile(cfgFile, []byte(cfg), 0o600))

	s := &sshServer{addr: net.JoinHostPort(host, strconv.Itoa(port)), user: me.Username, hostKey: hostPub, log: &syncBuffer{}}
	cmd := exec.Command(sshdPath, "-D", "-e", "-f", cfgFile)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	must(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log)
		}
	})
	waitListening(t, s.addr, exited, s.log)
	s.knownHosts = writeFile(t, "known_hosts", []byte(knownhosts.Line([]string{s.addr}, hostPub)+"\n"))
	return s
}

// waitListening waits until addr accepts connections (readiness, not timing).
func waitListening(t testing.TB, addr string, exited <-chan struct{}, log fmt.Stringer) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			t.Fatalf("sshd exited:\n%s", log)
		default:
		}
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sshd not listening on %s:\n%s", addr, log)
}

// newSSHKey returns an ed25519 key pair, the private key in OpenSSH PEM
// format, encrypted when passphrase is set.
func newSSHKey(t testing.TB, passphrase string) (ssh.PublicKey, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err)
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	must(t, err)
	sshPub, err := ssh.NewPublicKey(pub)
	must(t, err)
	return sshPub, pem.EncodeToMemory(block)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// sshFixture is a repository served by sshd with one authorized client key.
type sshFixture struct {
	repo    *repo
	srv     *sshServer
	keyFile string
}

func newSSHFixture(t *testing.T, clients ...ssh.PublicKey) *sshFixture {
	requireSSHD(t)
	pub, key := newSSHKey(t, "")
	f := &sshFixture{repo: newRepo(t), keyFile: writeFile(t, "id_ed25519", key)}
	f.srv = startSSHD(t, "127.0.0.1", freePort(t), append(clients, pub)...)
	return f
}

func (f *sshFixture) options() Options {
	o := testOptions(f.srv.url(f.repo.bare))
	o.Auth = AuthOptions{SSHKeyFile: f.keyFile, KnownHostsFile: f.srv.knownHosts}
	return o
}

func TestSSHPollPushAndNoop(t *testing.T) {
	f := newSSHFixture(t)
	first := f.repo.commit(map[string]string{"a.yaml": "1\n"}, "one")
	p := mustPoller(t, f.options())
	if snap := mustChange(t, p); snap.Revision.Hash != first || readFile(t, snap, "a.yaml") != "1\n" {
		t.Fatalf("first poll over ssh: %s a.yaml=%q, want %s", snap.Revision, readFile(t, snap, "a.yaml"), first)
	}

	before := f.srv.logins()
	if _, changed, err := p.Poll(context.Background()); changed || err != nil {
		t.Fatalf("no-op poll over ssh: changed=%v err=%v", changed, err)
	}
	if n := f.srv.logins() - before; n != 1 {
		t.Errorf("no-op poll opened %d ssh sessions, want 1 (ls-remote only)", n)
	}

	second := f.repo.commit(map[string]string{"a.yaml": "2\n"}, "two")
	if snap := mustChange(t, p); snap.Revision.Hash != second || readFile(t, snap, "a.yaml") != "2\n" {
		t.Errorf("after push: %s, want %s", snap.Revision, second)
	}
}

func TestSSHKnownHostsIsMandatory(t *testing.T) {
	f := newSSHFixture(t)
	f.repo.commit(map[string]string{"a.yaml": "1\n"}, "one")

	o := f.options()
	o.Auth.KnownHostsFile = ""
	if _, err := NewPoller(o); err == nil || !strings.Contains(err.Error(), "known_hosts") {
		t.Errorf("NewPoller without known_hosts: %v, want an error naming known_hosts", err)
	}

	o = f.options()
	o.Auth.KnownHostsFile = filepath.Join(t.TempDir(), "absent")
	if _, err := mustPoller(t, o).Head(context.Background()); !errors.Is(err, ErrUntrusted) {
		t.Errorf("missing known_hosts file: %v, want ErrUntrusted", err)
	}

	otherKey, _ := newSSHKey(t, "")
	cases := map[string]struct{ line, want string }{
		"changed host key": {knownhosts.Line([]string{f.srv.addr}, otherKey), "does not match"},
		"unknown host":     {knownhosts.Line([]string{"127.0.0.9:22"}, f.srv.hostKey), "not in known_hosts"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := f.options()
			o.Auth.KnownHostsFile = writeFile(t, "known_hosts", []byte(c.line+"\n"))
			_, err := mustPoller(t, o).Head(context.Background())
			if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "ssh host "+f.srv.addr) ||
				!strings.Contains(err.Error(), c.want) {
				t.Errorf("Head: %v, want ErrUntrusted naming host %s and saying %q", err, f.srv.addr, c.want)
			}
		})
	}
}

func TestSSHClientKeys(t *testing.T) {
	encPub, encKey := newSSHKey(t, "correct horse")
	f := newSSHFixture(t, encPub)
	f.repo.commit(map[string]string{"a.yaml": "1\n"}, "one")
	encFile := writeFile(t, "id_enc", encKey)
	_, strangerKey := newSSHKey(t, "")

	cases := []struct {
		name     string
		key      string
		passFile string
		wantErr  error
		wantText string
	}{
		{"passphrase-protected key", encFile, writeFile(t, "pass", []byte("correct horse\n")), nil, ""},
		{"encrypted key without passphrase", encFile, "", ErrAuth, "encrypted"},
		{"wrong passphrase", encFile, writeFile(t, "pass", []byte("wrong")), ErrAuth, "wrong passphrase"},
		{"key not authorized", writeFile(t, "id_other", strangerKey), "", ErrAuth, "unable to authenticate"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o := f.options()
			o.Auth.SSHKeyFile, o.Auth.SSHKeyPassphraseFile = c.key, c.passFile
			_, err := mustPoller(t, o).Head(context.Background())
			if (c.wantErr == nil) != (err == nil) || !errors.Is(err, c.wantErr) ||
				(err != nil && !strings.Contains(err.Error(), c.wantText)) {
				t.Fatalf("Head: %v, want %v saying %q", err, c.wantErr, c.wantText)
			}
			if err != nil && strings.Contains(err.Error(), "correct horse") {
				t.Errorf("error %q carries the passphrase", err)
			}
		})
	}
}

// TestSCPFormURL runs sshd on port 22 of a spare loopback address, since
// the scp form (user@host:path) cannot carry a port.
func TestSCPFormURL(t *testing.T) {
	requireSSHD(t)
	host := ""
	for i := 1; i < 32 && host == ""; i++ {
		candidate := fmt.Sprintf("127.77.0.%d", i)
		if l, err := net.Listen("tcp", candidate+":22"); err == nil {
			l.Close()
			host = candidate
		}
	}
	if host == "" {
		t.Skip("no loopback address with port 22 free to run sshd on")
	}
	pub, key := newSSHKey(t, "")
	r := newRepo(t)
	hash := r.commit(map[string]string{"a.yaml": "scp\n"}, "one")
	srv := startSSHD(t, host, 22, pub)

	o := testOptions(srv.user + "@" + host + ":" + r.bare)
	o.Auth = AuthOptions{SSHKeyFile: writeFile(t, "id", key), KnownHostsFile: srv.knownHosts}
	snap := mustChange(t, mustPoller(t, o))
	if snap.Revision.Hash != hash || readFile(t, snap, "a.yaml") != "scp\n" {
		t.Errorf("scp-form poll: %s, want %s", snap.Revision, hash)
	}
}

func TestSSHUnreachable(t *testing.T) {
	pub, key := newSSHKey(t, "")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(freePort(t))) // nothing listens there
	o := testOptions("ssh://git@" + addr + "/repo.git")
	o.Auth = AuthOptions{
		SSHKeyFile:     writeFile(t, "id", key),
		KnownHostsFile: writeFile(t, "known_hosts", []byte(knownhosts.Line([]string{addr}, pub)+"\n")),
	}
	if _, err := mustPoller(t, o).Head(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Head against a closed port: %v, want ErrUnreachable", err)
	}
}
