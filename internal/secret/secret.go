// Package secret holds credentials in memory so that they never print:
// the token of a Git remote or a forge API, a webhook secret, an SSH key's
// passphrase. A leaf package (it imports only the standard library), so
// that every edge shares one type without importing another edge: the same
// token often serves both the clone (sources/git) and the status API
// (sources/forge).
package secret

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"os"
)

// Secret is a credential in memory. It never prints: every fmt verb,
// String, slog and text (so JSON) marshalling render it as "[redacted]".
// Its bytes are the credential: convert it explicitly where one is sent.
type Secret []byte

const redacted = "[redacted]"

func (Secret) String() string               { return redacted }
func (Secret) GoString() string             { return redacted }
func (Secret) LogValue() slog.Value         { return slog.StringValue(redacted) }
func (Secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte(redacted)) }
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }

// ReadFile reads a secret from a file, dropping surrounding white space
// (the trailing newline most tools write).
func ReadFile(path string) (Secret, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Secret(bytes.TrimSpace(b)), nil
}

// FromEnv is the value of the environment variable name, surrounding white
// space dropped (empty when unset).
func FromEnv(name string) Secret {
	return Secret(bytes.TrimSpace([]byte(os.Getenv(name))))
}

// Equal reports whether given is the secret, in constant time: both are
// hashed first, so that the comparison does not leak the length either.
func (s Secret) Equal(given []byte) bool {
	a, b := sha256.Sum256(given), sha256.Sum256(s)
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}
