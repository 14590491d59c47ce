package git

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	gitssh "github.com/go-git/go-git/v5/plumbing/transport/ssh"
	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"

	"github.com/ringops/ringops/internal/secret"
)

// credentials turn AuthOptions into go-git auth methods, once per operation.
type credentials struct {
	opts AuthOptions
	ep   *transport.Endpoint

	mu     sync.Mutex
	digest [sha256.Size]byte // of the key file and passphrase the signer was parsed from
	signer ssh.Signer
}

// load returns the auth method and the CA bundle for one operation.
func (c *credentials) load(timeout time.Duration) (transport.AuthMethod, []byte, error) {
	if c.ep.Protocol == "ssh" {
		auth, err := c.sshAuth(timeout)
		return auth, nil, err
	}
	auth, err := c.httpAuth()
	if err != nil {
		return nil, nil, err
	}
	ca, err := c.caBundle()
	return auth, ca, err
}

func (c *credentials) httpAuth() (transport.AuthMethod, error) {
	var token secret.Secret
	switch {
	case c.opts.TokenFile != "":
		t, err := secret.ReadFile(c.opts.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("%w: token file: %w", ErrAuth, err)
		}
		token = t
	case c.opts.TokenEnv != "":
		token = secret.FromEnv(c.opts.TokenEnv)
	default:
		return nil, nil // anonymous
	}
	if len(token) == 0 {
		return nil, fmt.Errorf("%w: token (%s) is empty", ErrAuth, c.opts)
	}
	if c.opts.Bearer {
		return &githttp.TokenAuth{Token: string(token)}, nil
	}
	user := c.opts.Username
	if user == "" {
		user = "git"
	}
	return &githttp.BasicAuth{Username: user, Password: string(token)}, nil
}

// secrets are the values of the HTTP credentials (the token, and the
// Basic header it makes), so that error messages can leave them out.
func (c *credentials) secrets() []string {
	if c.ep.Protocol == "ssh" {
		return nil
	}
	auth, err := c.httpAuth()
	if err != nil || auth == nil {
		return nil
	}
	switch a := auth.(type) {
	case *githttp.TokenAuth:
		return []string{a.Token}
	case *githttp.BasicAuth:
		return []string{a.Password, base64.StdEncoding.EncodeToString([]byte(a.Username + ":" + a.Password))}
	}
	return nil
}

func (c *credentials) caBundle() ([]byte, error) {
	if c.opts.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(c.opts.CAFile)
	if err != nil {
		return nil, fmt.Errorf("%w: CA file: %w", ErrUntrusted, err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrUntrusted, c.opts.CAFile)
	}
	return pem, nil
}

func (c *credentials) sshAuth(timeout time.Duration) (*sshAuth, error) {
	signer, err := c.sshSigner()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(c.opts.KnownHostsFile); err != nil {
		return nil, fmt.Errorf("%w: known_hosts: %w", ErrUntrusted, err)
	}
	db, err := knownhosts.NewDB(c.opts.KnownHostsFile)
	if err != nil {
		return nil, fmt.Errorf("%w: known_hosts %s: %w", ErrUntrusted, c.opts.KnownHostsFile, err)
	}
	user := c.ep.User
	if user == "" {
		user = "git"
	}
	port := c.ep.Port
	if port <= 0 {
		port = 22
	}
	return &sshAuth{
		user: user, signer: signer, db: db, knownHosts: c.opts.KnownHostsFile, timeout: timeout,
		hostWithPort: net.JoinHostPort(c.ep.Host, strconv.Itoa(port)),
	}, nil
}

// sshSigner parses the private key, reusing the last parse while the key
// and passphrase files are unchanged (decrypting a key is slow on purpose).
func (c *credentials) sshSigner() (ssh.Signer, error) {
	key, err := os.ReadFile(c.opts.SSHKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: ssh key: %w", ErrAuth, err)
	}
	var pass secret.Secret
	if c.opts.SSHKeyPassphraseFile != "" {
		if pass, err = secret.ReadFile(c.opts.SSHKeyPassphraseFile); err != nil {
			return nil, fmt.Errorf("%w: ssh key passphrase: %w", ErrAuth, err)
		}
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d:", len(key))
	h.Write(key)
	h.Write(pass)
	var digest [sha256.Size]byte
	copy(digest[:], h.Sum(nil))

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.signer != nil && digest == c.digest {
		return c.signer, nil
	}
	signer, err := parseSSHKey(c.opts.SSHKeyFile, key, pass)
	if err != nil {
		return nil, err
	}
	c.signer, c.digest = signer, digest
	return signer, nil
}

func parseSSHKey(file string, key []byte, pass secret.Secret) (ssh.Signer, error) {
	var missing *ssh.PassphraseMissingError
	var signer ssh.Signer
	var err error
	if len(pass) > 0 {
		signer, err = ssh.ParsePrivateKeyWithPassphrase(key, pass)
	} else {
		signer, err = ssh.ParsePrivateKey(key)
	}
	switch {
	case err == nil:
		return signer, nil
	case errors.As(err, &missing):
		return nil, fmt.Errorf("%w: ssh key %s is encrypted and no passphrase file is set", ErrAuth, file)
	case errors.Is(err, x509.IncorrectPasswordError):
		return nil, fmt.Errorf("%w: ssh key %s: wrong passphrase", ErrAuth, file)
	}
	return nil, fmt.Errorf("%w: ssh key %s: %w", ErrAuth, file, err)
}

// sshAuth is a go-git SSH auth method: one key, a known_hosts check that
// names the host on failure, the host key algorithms known_hosts has for
// that host, and a dial timeout.
type sshAuth struct {
	user         string
	signer       ssh.Signer
	db           *knownhosts.HostKeyDB
	knownHosts   string
	hostWithPort string
	timeout      time.Duration
}

var _ gitssh.AuthMethod = (*sshAuth)(nil)

func (a *sshAuth) Name() string   { return "ssh-public-keys" }
func (a *sshAuth) String() string { return "user: " + a.user + ", name: " + a.Name() }

// ClientConfig implements gitssh.AuthMethod.
func (a *sshAuth) ClientConfig() (*ssh.ClientConfig, error) {
	return &ssh.ClientConfig{
		User:              a.user,
		Auth:              []ssh.AuthMethod{ssh.PublicKeys(a.signer)},
		HostKeyCallback:   a.checkHostKey,
		HostKeyAlgorithms: a.db.HostKeyAlgorithms(a.hostWithPort),
		Timeout:           a.timeout,
	}, nil
}

func (a *sshAuth) checkHostKey(host string, remote net.Addr, key ssh.PublicKey) error {
	err := a.db.HostKeyCallback()(host, remote, key)
	if err == nil {
		return nil
	}
	fp := key.Type() + " " + ssh.FingerprintSHA256(key)
	reason := err.Error()
	switch {
	case knownhosts.IsHostUnknown(err):
		reason = fmt.Sprintf("host key %s is not in known_hosts %s", fp, a.knownHosts)
	case knownhosts.IsHostKeyChanged(err):
		reason = fmt.Sprintf("host key %s does not match known_hosts %s (changed key or man-in-the-middle)", fp, a.knownHosts)
	}
	return &hostKeyError{host: host, reason: reason, err: err}
}
