package git

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"golang.org/x/crypto/ssh"
)

// signer makes signed commits in a repo and knows its public key.
type signer struct {
	name   string
	commit func(r *repo, msg string) string // commits, pushes, returns the hash
	pubKey []byte                           // armored OpenPGP or authorized_keys line
	id     string                           // expected Commit.Signer
}

func sshSigner(t *testing.T) signer {
	t.Helper()
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("ssh-keygen missing (apt-get install openssh-client)")
	}
	pub, key := newSSHKey(t, "")
	keyFile := writeFile(t, "signing_key", key)
	return signer{
		name: "ssh",
		commit: func(r *repo, msg string) string {
			r.write(map[string]string{"a.yaml": msg + "\n"})
			r.git("add", "-A")
			r.git("-c", "gpg.format=ssh", "-c", "user.signingkey="+keyFile, "commit", "-q", "-S", "-m", msg)
			r.push("HEAD", "refs/heads/main")
			return r.git("rev-parse", "HEAD")
		},
		pubKey: ssh.MarshalAuthorizedKey(pub),
		id:     "ssh:" + ssh.FingerprintSHA256(pub),
	}
}

// pgpSigner signs commits with a key made by go-crypto: git writes the
// commit, the test adds the gpgsig header as git would and stores it.
func pgpSigner(t *testing.T) signer {
	t.Helper()
	e, err := openpgp.NewEntity("Ada", "", "ada@example.com", nil)
	must(t, err)
	var pub bytes.Buffer
	w, err := armor.Encode(&pub, openpgp.PublicKeyType, nil)
	must(t, err)
	must(t, e.Serialize(w))
	must(t, w.Close())
	return signer{
		name: "openpgp",
		commit: func(r *repo, msg string) string {
			r.write(map[string]string{"a.yaml": msg + "\n"})
			r.git("add", "-A")
			r.git("commit", "-q", "-m", msg)
			raw := r.catCommit("HEAD")
			var sig bytes.Buffer
			must(t, openpgp.ArmoredDetachSign(&sig, e, bytes.NewReader(raw), nil))
			return r.storeCommit(withSignature(raw, sig.String()))
		},
		pubKey: pub.Bytes(),
		id:     "openpgp:" + e.PrimaryKey.KeyIdString(),
	}
}

// gpgSigner signs commits with the real gpg, when installed.
func gpgSigner(t *testing.T, r *repo) signer {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Skip("gpg not installed; the OpenPGP path is covered by the go-crypto signer")
	}
	home, err := os.MkdirTemp("", "gpg") // short path: gpg-agent's socket lives there
	must(t, err)
	t.Cleanup(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = kill.Run()
		os.RemoveAll(home)
	})
	r.env = append(r.env, "GNUPGHOME="+home)
	gpg := func(args ...string) []byte {
		cmd := exec.Command("gpg", append([]string{"--batch", "--pinentry-mode", "loopback", "--passphrase", ""}, args...)...)
		cmd.Env = r.env
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("gpg %v: %v", args, err)
		}
		return out
	}
	gpg("--quick-gen-key", "Ada <gpg@example.com>", "ed25519", "sign", "0")
	fpr := ""
	for _, line := range strings.Split(string(gpg("--with-colons", "--list-keys", "gpg@example.com")), "\n") {
		if f := strings.Split(line, ":"); f[0] == "fpr" && fpr == "" {
			fpr = f[9]
		}
	}
	return signer{
		name: "gpg",
		commit: func(r *repo, msg string) string {
			r.write(map[string]string{"a.yaml": msg + "\n"})
			r.git("add", "-A")
			r.git("-c", "gpg.program=gpg", "-c", "user.signingkey=gpg@example.com", "commit", "-q", "-S", "-m", msg)
			r.push("HEAD", "refs/heads/main")
			return r.git("rev-parse", "HEAD")
		},
		pubKey: gpg("--armor", "--export", "gpg@example.com"),
		id:     "openpgp:" + fpr[len(fpr)-16:],
	}
}

// catCommit returns the raw commit object of rev, byte for byte.
func (r *repo) catCommit(rev string) []byte {
	r.t.Helper()
	cmd := exec.Command("git", "cat-file", "commit", rev)
	cmd.Dir, cmd.Env = r.work, r.env
	out, err := cmd.Output()
	must(r.t, err)
	return out
}

// storeCommit writes a raw commit object, moves the work tree's HEAD to it
// and pushes it to main.
func (r *repo) storeCommit(raw []byte) string {
	r.t.Helper()
	hash, err := r.runErr(r.work, raw, "hash-object", "-t", "commit", "-w", "--stdin")
	must(r.t, err)
	r.git("update-ref", "HEAD", hash)
	r.push("HEAD", "refs/heads/main")
	return hash
}

// withSignature inserts a gpgsig header after the commit's other headers.
func withSignature(raw []byte, sig string) []byte {
	headers, body, _ := bytes.Cut(raw, []byte("\n\n"))
	header := "gpgsig " + strings.ReplaceAll(strings.TrimSuffix(sig, "\n"), "\n", "\n ")
	return []byte(string(headers) + "\n" + header + "\n\n" + string(body))
}

// verifyingPoller trusts the keys of the given signers.
func verifyingPoller(t *testing.T, url string, trusted ...signer) *Poller {
	t.Helper()
	o := testOptions(url)
	o.Verify = &VerifyOptions{}
	for _, s := range trusted {
		o.Verify.KeyFiles = append(o.Verify.KeyFiles, writeFile(t, s.name+".pub", s.pubKey))
	}
	return mustPoller(t, o)
}

func TestSignedCommitsAreAccepted(t *testing.T) {
	r := newRepo(t)
	srv := startHTTP(t, r)
	sshS, pgpS := sshSigner(t), pgpSigner(t)
	for _, s := range []signer{sshS, pgpS} {
		t.Run(s.name, func(t *testing.T) {
			hash := s.commit(r, "signed by "+s.name)
			snap := mustChange(t, verifyingPoller(t, srv.URL, sshS, pgpS))
			if snap.Revision.Hash != hash || snap.Commit.Signer != s.id {
				t.Errorf("snapshot %s signer %q, want %s signed by %q", snap.Revision, snap.Commit.Signer, hash, s.id)
			}
		})
	}
	t.Run("gpg", func(t *testing.T) {
		g := gpgSigner(t, r)
		hash := g.commit(r, "signed by gpg")
		snap := mustChange(t, verifyingPoller(t, srv.URL, g))
		if snap.Revision.Hash != hash || snap.Commit.Signer != g.id {
			t.Errorf("snapshot %s signer %q, want %s signed by %q", snap.Revision, snap.Commit.Signer, hash, g.id)
		}
	})
}

func TestUnsignedAndUnknownSignersAreRefused(t *testing.T) {
	r := newRepo(t)
	srv := startHTTP(t, r)
	sshS, pgpS := sshSigner(t), pgpSigner(t)
	otherSSH, otherPGP := sshSigner(t), pgpSigner(t)

	cases := []struct {
		name string
		make func() string
		want error
		text string
	}{
		{"unsigned", func() string { return r.commit(nil, "unsigned") }, ErrUnsigned, "not signed"},
		{"unknown ssh key", func() string { return otherSSH.commit(r, "other ssh") }, ErrUnknownSigner, otherSSH.id[len("ssh:"):]},
		{"unknown openpgp key", func() string { return otherPGP.commit(r, "other pgp") }, ErrUnknownSigner, otherPGP.id[len("openpgp:"):]},
		{"tampered after signing", func() string { return tamper(r, sshS) }, ErrBadSignature, "invalid"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			good := sshS.commit(r, "good before "+c.name)
			p := verifyingPoller(t, srv.URL, sshS, pgpS)
			mustChange(t, p)
			bad := c.make()
			_, changed, err := p.Poll(context.Background())
			if changed || !errors.Is(err, c.want) || !errors.Is(err, ErrRefused) ||
				!strings.Contains(err.Error(), c.text) || !strings.Contains(err.Error(), bad) {
				t.Fatalf("poll of %s: changed=%v err=%v; want %v naming %s and %q", c.name, changed, err, c.want, bad, c.text)
			}
			t.Logf("refused: %v", err)
			if p.Current().Revision.Hash != good {
				t.Errorf("current = %s, want the last good %s", p.Current().Revision, good)
			}
		})
	}
}

// tamper commits a validly signed commit, then stores a copy whose message
// was changed after signing.
func tamper(r *repo, s signer) string {
	s.commit(r, "original")
	raw := r.catCommit("HEAD")
	return r.storeCommit(bytes.Replace(raw, []byte("original"), []byte("forged!!"), 1))
}

func TestVerifyKeyFilesAreChecked(t *testing.T) {
	o := testOptions("https://127.0.0.1/repo.git")
	o.Verify = &VerifyOptions{KeyFiles: []string{writeFile(t, "junk.pub", []byte("not a key\n"))}}
	if _, err := NewPoller(o); err == nil || !strings.Contains(err.Error(), "junk.pub") {
		t.Errorf("NewPoller with a junk key file: %v, want an error naming it", err)
	}
	o.Verify = &VerifyOptions{}
	if _, err := NewPoller(o); err == nil {
		t.Error("NewPoller with verification and no keys succeeded")
	}
	o.Verify = &VerifyOptions{KeyFiles: []string{filepath.Join(t.TempDir(), "absent.asc")}}
	if _, err := NewPoller(o); err == nil {
		t.Error("NewPoller with a missing key file succeeded")
	}
}
