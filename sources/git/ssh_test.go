package git

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/ringops/ringops/test/gitserver"
)

// sshFixture is a repository served by sshd, which lets in the client key
// it generated (keyFile) and any other given.
type sshFixture struct {
	repo    *repo
	srv     *gitserver.SSHServer
	keyFile string
}

func newSSHFixture(t *testing.T, clients ...ssh.PublicKey) *sshFixture {
	o := gitserver.DefaultSSHOptions()
	o.AuthorizedKeys = clients
	srv := gitserver.NewSSH(t, o)
	return &sshFixture{repo: newRepo(t), srv: srv, keyFile: srv.KeyFile()}
}

func (f *sshFixture) options() Options {
	o := testOptions(f.srv.URL(f.repo.bare))
	o.Auth = AuthOptions{SSHKeyFile: f.keyFile, KnownHostsFile: f.srv.KnownHostsFile()}
	return o
}

func TestSSHPollPushAndNoop(t *testing.T) {
	f := newSSHFixture(t)
	first := f.repo.commit(map[string]string{"a.yaml": "1\n"}, "one")
	p := mustPoller(t, f.options())
	if snap := mustChange(t, p); snap.Revision.Hash != first || readFile(t, snap, "a.yaml") != "1\n" {
		t.Fatalf("first poll over ssh: %s a.yaml=%q, want %s", snap.Revision, readFile(t, snap, "a.yaml"), first)
	}

	before := f.srv.Logins()
	if _, changed, err := p.Poll(context.Background()); changed || err != nil {
		t.Fatalf("no-op poll over ssh: changed=%v err=%v", changed, err)
	}
	if n := f.srv.Logins() - before; n != 1 {
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
		"changed host key": {knownhosts.Line([]string{f.srv.Addr()}, otherKey), "does not match"},
		"unknown host":     {knownhosts.Line([]string{"127.0.0.9:22"}, f.srv.HostKey()), "not in known_hosts"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			o := f.options()
			o.Auth.KnownHostsFile = writeFile(t, "known_hosts", []byte(c.line+"\n"))
			_, err := mustPoller(t, o).Head(context.Background())
			if !errors.Is(err, ErrUntrusted) || !strings.Contains(err.Error(), "ssh host "+f.srv.Addr()) ||
				!strings.Contains(err.Error(), c.want) {
				t.Errorf("Head: %v, want ErrUntrusted naming host %s and saying %q", err, f.srv.Addr(), c.want)
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
	gitserver.RequireSSHD(t)
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
	r := newRepo(t)
	hash := r.commit(map[string]string{"a.yaml": "scp\n"}, "one")
	srv := gitserver.NewSSH(t, gitserver.SSHOptions{Host: host, Port: 22})

	o := testOptions(srv.User() + "@" + host + ":" + r.bare)
	o.Auth = AuthOptions{SSHKeyFile: srv.KeyFile(), KnownHostsFile: srv.KnownHostsFile()}
	snap := mustChange(t, mustPoller(t, o))
	if snap.Revision.Hash != hash || readFile(t, snap, "a.yaml") != "scp\n" {
		t.Errorf("scp-form poll: %s, want %s", snap.Revision, hash)
	}
}

func TestSSHUnreachable(t *testing.T) {
	pub, key := newSSHKey(t, "")
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(gitserver.FreePort(t, "127.0.0.1"))) // nothing listens there
	o := testOptions("ssh://git@" + addr + "/repo.git")
	o.Auth = AuthOptions{
		SSHKeyFile:     writeFile(t, "id", key),
		KnownHostsFile: writeFile(t, "known_hosts", []byte(knownhosts.Line([]string{addr}, pub)+"\n")),
	}
	if _, err := mustPoller(t, o).Head(context.Background()); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Head against a closed port: %v, want ErrUnreachable", err)
	}
}
