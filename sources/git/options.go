package git

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/go-git/go-git/v5/plumbing/transport"
)

// Options configure a Poller.
type Options struct {
	// URL of the repository: "https://host/org/repo.git",
	// "ssh://git@host:2222/org/repo.git" or the scp form
	// "git@host:org/repo.git" (port 22). Plain "http://" is accepted, but
	// credentials are only sent over it to a loopback host. The URL must
	// not carry a password: credentials come from Auth.
	URL string
	// Branch to follow. Default "main".
	Branch string
	// Tag to follow instead of Branch; when set it wins over Branch (as in
	// Flux). An annotated tag is followed to its commit.
	Tag string
	// Auth says where credentials are read from.
	Auth AuthOptions
	// Verify, when set, refuses revisions whose commit is not signed by one
	// of the trusted keys.
	Verify *VerifyOptions
	// Interval between two polls. Default 1m.
	Interval time.Duration
	// Jitter: each wait is Interval plus a random duration in [0, Jitter),
	// so that many daemons do not poll in step. Default 3s (5% of 1m).
	Jitter time.Duration
	// Timeout of each git operation (ls-remote, fetch). Default 60s.
	Timeout time.Duration
	// MinBackoff is the wait after the first failed poll; it doubles with
	// each further failure up to MaxBackoff. Defaults 750ms and 5m.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// MaxFileBytes refuses a revision holding a larger file. Default 8 MiB.
	MaxFileBytes int64
	// MaxTreeBytes refuses a revision whose files add up to more. Default 128 MiB.
	MaxTreeBytes int64
}

// DefaultOptions returns the defaults; set URL (and Auth) before use.
func DefaultOptions() Options {
	return Options{
		Branch:       "main",
		Interval:     time.Minute,
		Jitter:       3 * time.Second,
		Timeout:      60 * time.Second,
		MinBackoff:   750 * time.Millisecond,
		MaxBackoff:   5 * time.Minute,
		MaxFileBytes: 8 << 20,
		MaxTreeBytes: 128 << 20,
	}
}

// ref returns the full name of the watched ref.
func (o Options) ref() string {
	if o.Tag != "" {
		return "refs/tags/" + strings.TrimPrefix(o.Tag, "refs/tags/")
	}
	if o.Branch == "" {
		return "refs/heads/main"
	}
	return fullRef(o.Branch)
}

// validate checks the options and parses the URL.
func (o Options) validate() (*transport.Endpoint, error) {
	ep, err := parseEndpoint(o.URL)
	if err != nil {
		return nil, err
	}
	if err := o.Auth.validate(ep); err != nil {
		return nil, fmt.Errorf("git %s: auth: %w", o.URL, err)
	}
	var errs []error
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", o.Interval}, {"timeout", o.Timeout}, {"min backoff", o.MinBackoff}, {"max backoff", o.MaxBackoff}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, got %s", d.name, d.v))
		}
	}
	if o.Jitter < 0 || o.MinBackoff > o.MaxBackoff {
		errs = append(errs, fmt.Errorf("jitter must be >= 0 and min backoff <= max backoff"))
	}
	if o.MaxFileBytes <= 0 || o.MaxTreeBytes <= 0 {
		errs = append(errs, fmt.Errorf("size limits must be positive"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("git %s: options: %w", o.URL, err)
	}
	return ep, nil
}

// parseEndpoint accepts http(s), ssh and scp-form URLs without a password.
func parseEndpoint(raw string) (*transport.Endpoint, error) {
	if raw == "" {
		return nil, errors.New("git: options: URL is required")
	}
	ep, err := transport.NewEndpoint(raw)
	if err != nil {
		return nil, fmt.Errorf("git %s: URL: %w", raw, err)
	}
	switch {
	case ep.Protocol != "http" && ep.Protocol != "https" && ep.Protocol != "ssh":
		return nil, fmt.Errorf("git %s: URL: protocol %q not supported (use https, ssh or user@host:path)", raw, ep.Protocol)
	case ep.Password != "":
		return nil, fmt.Errorf("git URL: must not carry a password; use a token file or variable")
	case ep.Host == "":
		return nil, fmt.Errorf("git %s: URL: no host", raw)
	}
	return ep, nil
}

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// AuthOptions say where credentials are read from. They hold file paths and
// variable names, never the secrets themselves; the files are read at every
// operation, so rotated credentials are picked up without a restart.
type AuthOptions struct {
	// SSHKeyFile is the private key (OpenSSH or PEM format) for ssh URLs.
	SSHKeyFile string
	// SSHKeyPassphraseFile holds the key's passphrase, if it has one.
	SSHKeyPassphraseFile string
	// KnownHostsFile (OpenSSH known_hosts format) is mandatory for ssh URLs:
	// a server whose host key is not in it is refused.
	KnownHostsFile string
	// Username for HTTPS basic auth. Default "git" (GitHub ignores it,
	// GitLab wants "oauth2" with OAuth tokens).
	Username string
	// TokenFile holds the HTTPS token (a password or access token).
	TokenFile string
	// TokenEnv names an environment variable holding the token; used when
	// TokenFile is empty.
	TokenEnv string
	// Bearer sends the token as "Authorization: Bearer" instead of as the
	// basic-auth password.
	Bearer bool
	// CAFile is a PEM bundle of extra CAs trusted for HTTPS, on top of the
	// system pool.
	CAFile string
}

// Environment variables read by AuthFromEnv.
const (
	EnvSSHKeyFile           = "RINGOPS_GIT_SSH_KEY_FILE"
	EnvSSHKeyPassphraseFile = "RINGOPS_GIT_SSH_KEY_PASSPHRASE_FILE"
	EnvKnownHostsFile       = "RINGOPS_GIT_KNOWN_HOSTS_FILE"
	EnvUsername             = "RINGOPS_GIT_USERNAME"
	EnvTokenFile            = "RINGOPS_GIT_TOKEN_FILE"
	EnvToken                = "RINGOPS_GIT_TOKEN"
	EnvBearer               = "RINGOPS_GIT_BEARER"
	EnvCAFile               = "RINGOPS_GIT_CA_FILE"
)

// AuthFromEnv builds AuthOptions from the RINGOPS_GIT_* variables. The
// token itself stays in the environment (TokenEnv names EnvToken).
func AuthFromEnv() AuthOptions {
	a := AuthOptions{
		SSHKeyFile:           os.Getenv(EnvSSHKeyFile),
		SSHKeyPassphraseFile: os.Getenv(EnvSSHKeyPassphraseFile),
		KnownHostsFile:       os.Getenv(EnvKnownHostsFile),
		Username:             os.Getenv(EnvUsername),
		TokenFile:            os.Getenv(EnvTokenFile),
		CAFile:               os.Getenv(EnvCAFile),
	}
	if os.Getenv(EnvToken) != "" {
		a.TokenEnv = EnvToken
	}
	switch strings.ToLower(os.Getenv(EnvBearer)) {
	case "1", "true", "yes":
		a.Bearer = true
	}
	return a
}

func (a AuthOptions) hasToken() bool { return a.TokenFile != "" || a.TokenEnv != "" }

func (a AuthOptions) validate(ep *transport.Endpoint) error {
	if ep.Protocol == "ssh" {
		switch {
		case a.SSHKeyFile == "":
			return errors.New("ssh URL needs an SSH key file")
		case a.KnownHostsFile == "":
			return errors.New("ssh URL needs a known_hosts file (it is mandatory)")
		case a.hasToken() || a.CAFile != "":
			return errors.New("token and CA file are for https URLs, not ssh")
		}
		return nil
	}
	switch {
	case a.SSHKeyFile != "" || a.KnownHostsFile != "":
		return fmt.Errorf("SSH key and known_hosts are for ssh URLs, not %s", ep.Protocol)
	case ep.Protocol == "http" && a.hasToken() && !isLoopback(ep.Host):
		return fmt.Errorf("refusing to send a token over plain http to %s; use https", ep.Host)
	}
	return nil
}

// String describes where credentials come from, without any secret.
func (a AuthOptions) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("ssh-key-file", a.SSHKeyFile)
	add("ssh-key-passphrase-file", a.SSHKeyPassphraseFile)
	add("known-hosts-file", a.KnownHostsFile)
	add("username", a.Username)
	add("token-file", a.TokenFile)
	add("token-env", a.TokenEnv)
	if a.Bearer {
		add("bearer", "true")
	}
	add("ca-file", a.CAFile)
	if len(parts) == 0 {
		return "anonymous"
	}
	return strings.Join(parts, " ")
}

// LogValue logs the same description as String.
func (a AuthOptions) LogValue() slog.Value { return slog.StringValue(a.String()) }

// VerifyOptions turn on commit signature verification of the head commit.
type VerifyOptions struct {
	// KeyFiles hold the trusted public keys. Each file is either an
	// ASCII-armored OpenPGP key block (one or more keys) or SSH public keys
	// in authorized_keys format (one per line, e.g. a .pub file); the type
	// is detected from the content. Read once, by NewPoller.
	KeyFiles []string
}
