package gitserver

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
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
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// DefaultSSHD is where Debian's openssh-server installs sshd.
const DefaultSSHD = "/usr/sbin/sshd"

// SSHOptions says how NewSSH runs sshd.
type SSHOptions struct {
	// Host is the loopback address sshd listens on.
	Host string
	// Port is the port sshd listens on; 0 picks a free one.
	Port int
	// AuthorizedKeys are let in besides the client key NewSSH generates
	// (see KeyFile).
	AuthorizedKeys []ssh.PublicKey
	// Sshd is the path of sshd.
	Sshd string
}

// DefaultSSHOptions returns sshd on a free port of 127.0.0.1.
func DefaultSSHOptions() SSHOptions {
	return SSHOptions{Host: "127.0.0.1", Sshd: DefaultSSHD}
}

// SSHServer is Debian's sshd on a loopback address, run for one test, with
// a generated host key, letting the current user in with a generated client
// key (and SSHOptions.AuthorizedKeys). sshd only logs in accounts that
// exist, so URLs carry the current user's name (root under CI), not "git".
// git reaches a Repo through it by running git-upload-pack on Repo.Bare.
type SSHServer struct {
	addr       string
	user       string
	hostKey    ssh.PublicKey
	knownHosts string
	keyFile    string
	log        *syncBuffer
}

// RequireSSHD skips the test when sshd is not installed (scripts/setup.sh
// installs it). Run as root, sshd needs its privilege separation directory,
// which its service unit normally creates: RequireSSHD creates it.
func RequireSSHD(t TB) {
	t.Helper()
	requireSSHD(t, DefaultSSHD)
}

func requireSSHD(t TB, sshd string) {
	t.Helper()
	if _, err := os.Stat(sshd); err != nil {
		t.Skipf("%s missing: apt-get install openssh-server (scripts/setup.sh)", sshd)
	}
	if os.Geteuid() == 0 {
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("sshd: privilege separation directory: %v", err)
		}
	}
}

// NewSSH runs sshd until the test ends and waits until it accepts
// connections.
func NewSSH(t TB, o SSHOptions) *SSHServer {
	t.Helper()
	o = withSSHDefaults(o)
	requireSSHD(t, o.Sshd)
	if o.Port == 0 {
		o.Port = FreePort(t, o.Host)
	}
	me, err := user.Current()
	if err != nil {
		t.Fatalf("sshd: %v", err)
	}
	dir := t.TempDir()
	clientPub, clientKey := NewSSHKey(t, "")
	s := &SSHServer{
		addr: net.JoinHostPort(o.Host, strconv.Itoa(o.Port)), user: me.Username, log: &syncBuffer{},
		keyFile: writeFile(t, dir, "id_ed25519", clientKey),
	}
	cfg := s.configure(t, dir, o, append([]ssh.PublicKey{clientPub}, o.AuthorizedKeys...))
	s.run(t, o.Sshd, cfg)
	s.knownHosts = writeFile(t, dir, "known_hosts", []byte(knownhosts.Line([]string{s.addr}, s.hostKey)+"\n"))
	return s
}

func withSSHDefaults(o SSHOptions) SSHOptions {
	d := DefaultSSHOptions()
	if o.Host == "" {
		o.Host = d.Host
	}
	if o.Sshd == "" {
		o.Sshd = d.Sshd
	}
	return o
}

// configure writes the host key, authorized_keys and sshd_config into dir
// and returns the config's path.
func (s *SSHServer) configure(t TB, dir string, o SSHOptions, clients []ssh.PublicKey) string {
	t.Helper()
	var hostPEM []byte
	s.hostKey, hostPEM = NewSSHKey(t, "")
	var authorized []byte
	for _, c := range clients {
		authorized = append(authorized, ssh.MarshalAuthorizedKey(c)...)
	}
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
`, o.Port, o.Host, writeFile(t, dir, "host_key", hostPEM), writeFile(t, dir, "authorized_keys", authorized),
		filepath.Join(dir, "sshd.pid"), s.user)
	return writeFile(t, dir, "sshd_config", []byte(cfg))
}

// run starts sshd in the foreground, stopped when the test ends.
func (s *SSHServer) run(t TB, sshd, cfg string) {
	t.Helper()
	cmd := exec.Command(sshd, "-D", "-e", "-f", cfg)
	cmd.Stdout, cmd.Stderr = s.log, s.log
	if err := cmd.Start(); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		<-exited
		if t.Failed() {
			t.Logf("sshd log:\n%s", s.log)
		}
	})
	s.waitListening(t, exited)
}

// waitListening waits until sshd accepts connections (readiness; the
// deadline only guards against a hang).
func (s *SSHServer) waitListening(t TB, exited <-chan struct{}) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		select {
		case <-exited:
			t.Fatalf("sshd exited:\n%s", s.log)
		default:
		}
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("sshd not listening on %s:\n%s", s.addr, s.log)
}

// Addr returns the host:port sshd listens on.
func (s *SSHServer) Addr() string { return s.addr }

// User returns the user name clients log in as (the current user).
func (s *SSHServer) User() string { return s.user }

// URL returns ssh://user@host:port/path, the URL of the repository at the
// absolute path on this machine, e.g. URL(repo.Bare).
func (s *SSHServer) URL(path string) string {
	return "ssh://" + s.user + "@" + s.addr + path
}

// HostKey returns the server's host key.
func (s *SSHServer) HostKey() ssh.PublicKey { return s.hostKey }

// KnownHostsFile returns the path of a known_hosts file holding the host key
// for Addr.
func (s *SSHServer) KnownHostsFile() string { return s.knownHosts }

// KeyFile returns the path of the generated, authorized client private key
// (OpenSSH format, no passphrase).
func (s *SSHServer) KeyFile() string { return s.keyFile }

// GitSSHCommand returns a GIT_SSH_COMMAND value with which the git CLI logs
// in with KeyFile and trusts only KnownHostsFile.
func (s *SSHServer) GitSSHCommand() string {
	return "ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=yes" +
		" -o UserKnownHostsFile=" + shellQuote(s.knownHosts) + " -i " + shellQuote(s.keyFile)
}

// Logins returns the number of accepted logins so far (one per git
// connection: ls-remote, fetch, clone or push).
func (s *SSHServer) Logins() int { return strings.Count(s.log.String(), "Accepted publickey") }

// Log returns sshd's log so far.
func (s *SSHServer) Log() string { return s.log.String() }

// NewSSHKey returns an ed25519 key pair, the private key PEM-encoded in the
// OpenSSH format, encrypted when passphrase is set.
func NewSSHKey(t TB, passphrase string) (ssh.PublicKey, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("ssh key: %v", err)
	}
	var block *pem.Block
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatalf("ssh key: %v", err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("ssh key: %v", err)
	}
	return sshPub, pem.EncodeToMemory(block)
}

// FreePort returns a TCP port free on host at the time of asking.
func FreePort(t TB, host string) int {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("free port on %s: %v", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeFile writes content to dir/name with mode 0600 and returns the path.
func writeFile(t TB, dir, name string, content []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatalf("%v", err)
	}
	return p
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// syncBuffer is a log written by sshd's output goroutines and read by tests.
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
