package forge

import (
	"errors"
	"fmt"

	"github.com/ringops/ringops/internal/secret"
)

// ErrInvalidToken: the token could not be read or is empty.
var ErrInvalidToken = errors.New("invalid token")

// TokenSource yields the API token at each request, so that a rotated
// token file is picked up without a restart.
type TokenSource interface {
	Token() (secret.Secret, error)
	// String says where the token comes from, never what it is.
	String() string
}

// TokenFile reads the token from a file (surrounding white space dropped).
type TokenFile string

func (f TokenFile) Token() (secret.Secret, error) {
	s, err := secret.ReadFile(string(f))
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

func (e TokenEnv) Token() (secret.Secret, error) {
	s := secret.FromEnv(string(e))
	if len(s) == 0 {
		return nil, fmt.Errorf("forge token variable %s: %w: unset or empty", string(e), ErrInvalidToken)
	}
	return s, nil
}

func (e TokenEnv) String() string { return "variable " + string(e) }

// StaticToken is a token already in memory (tests, or a caller that read it).
type StaticToken secret.Secret

func (t StaticToken) Token() (secret.Secret, error) {
	if len(t) == 0 {
		return nil, fmt.Errorf("forge token: %w: empty", ErrInvalidToken)
	}
	return secret.Secret(t), nil
}

func (StaticToken) String() string { return "static token" }

// GoString keeps %#v from printing the bytes of a StaticToken.
func (StaticToken) GoString() string { return "forge.StaticToken([redacted])" }

// Format keeps every fmt verb from printing the bytes of a StaticToken.
func (StaticToken) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("static token")) }
