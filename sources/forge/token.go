package forge

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/ringops/ringops/sources/git"
)

// Secret is a credential in memory that never prints (every fmt verb, slog
// and text marshalling show "[redacted]"). It is sources/git's type: the
// same token often serves both the clone and the status API, and the
// import points from the forge edge to the git edge, never back.
type Secret = git.Secret

// ErrInvalidToken: the token could not be read or is empty.
var ErrInvalidToken = errors.New("invalid token")

// TokenSource yields the API token at each request, so that a rotated
// token file is picked up without a restart.
type TokenSource interface {
	Token() (Secret, error)
	// String says where the token comes from, never what it is.
	String() string
}

// TokenFile reads the token from a file (surrounding white space dropped).
type TokenFile string

func (f TokenFile) Token() (Secret, error) {
	s, err := git.ReadSecretFile(string(f))
	if err != nil {
		return nil, fmt.Errorf("forge token file %s: %w: %w", string(f), ErrInvalidToken, err)
	}
	if len(s) == 0 {
		return nil, fmt.Errorf("forge token file %s: %w: empty", string(f), ErrInvalidToken)
	}
	return s, nil
}

func (f TokenFile) String() string { return "file " + string(f) }

// TokenEnv reads the token from an environment variable.
type TokenEnv string

func (e TokenEnv) Token() (Secret, error) {
	s := Secret(bytes.TrimSpace([]byte(os.Getenv(string(e)))))
	if len(s) == 0 {
		return nil, fmt.Errorf("forge token variable %s: %w: unset or empty", string(e), ErrInvalidToken)
	}
	return s, nil
}

func (e TokenEnv) String() string { return "variable " + string(e) }

// StaticToken is a token already in memory (tests, or a caller that read it).
type StaticToken Secret

func (t StaticToken) Token() (Secret, error) {
	if len(t) == 0 {
		return nil, fmt.Errorf("forge token: %w: empty", ErrInvalidToken)
	}
	return Secret(t), nil
}

func (StaticToken) String() string { return "static token" }

// GoString keeps %#v from printing the bytes of a StaticToken.
func (StaticToken) GoString() string { return "forge.StaticToken([redacted])" }

// Format keeps every fmt verb from printing the bytes of a StaticToken.
func (StaticToken) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("static token")) }
