package jolokia

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Credentials are the basic-auth user and password of the Jolokia agents.
// They print as "user:***" with every verb, so that a log line or an error
// that carries them never shows the password.
type Credentials struct {
	Username string
	Password string
}

// String redacts the password.
func (c Credentials) String() string { return c.Username + ":***" }

// GoString redacts the password for %#v too.
func (c Credentials) GoString() string {
	return fmt.Sprintf("ring.Credentials{Username: %q, Password: ***}", c.Username)
}

// Secret keys of the Jolokia credentials Secret (spec.jolokia.credentialsSecret).
const (
	SecretUsernameKey = "username"
	SecretPasswordKey = "password"
)

// Keys of a rotation's previous credentials in the Secret ringops keeps
// (render.JolokiaSecretName): what the nodes not yet restarted hold.
const (
	SecretPreviousUsernameKey = "previous-username"
	SecretPreviousPasswordKey = "previous-password"
)

// PreviousCredentialsFromSecret reads the previous credentials of a
// rotation from a Secret, false when it holds none.
func PreviousCredentialsFromSecret(s *corev1.Secret) (Credentials, bool) {
	user, pass := s.Data[SecretPreviousUsernameKey], s.Data[SecretPreviousPasswordKey]
	if len(user) == 0 || len(pass) == 0 {
		return Credentials{}, false
	}
	return Credentials{Username: string(user), Password: string(pass)}, true
}

// CredentialsFromSecret reads the credentials from a Secret's username and
// password keys.
func CredentialsFromSecret(s *corev1.Secret) (Credentials, error) {
	user, pass := s.Data[SecretUsernameKey], s.Data[SecretPasswordKey]
	if len(user) == 0 || len(pass) == 0 {
		return Credentials{}, fmt.Errorf("secret %s/%s: keys %s and %s must both be set", s.Namespace, s.Name, SecretUsernameKey, SecretPasswordKey)
	}
	return Credentials{Username: string(user), Password: string(pass)}, nil
}

// CredentialsFromFile reads the credentials from path: either a directory
// holding the files username and password (a Secret mounted as a volume), or
// a file whose first line is "user:password". Surrounding white space and
// the final newline are ignored.
func CredentialsFromFile(path string) (Credentials, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("jolokia credentials: %w", err)
	}
	if st.IsDir() {
		return credentialsFromDir(path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("jolokia credentials: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	user, pass, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok || user == "" || pass == "" {
		return Credentials{}, fmt.Errorf("jolokia credentials %s: want one line user:password", path)
	}
	return Credentials{Username: user, Password: pass}, nil
}

func credentialsFromDir(dir string) (Credentials, error) {
	var vals [2]string
	for i, key := range []string{SecretUsernameKey, SecretPasswordKey} {
		b, err := os.ReadFile(filepath.Join(dir, key))
		if err != nil {
			return Credentials{}, fmt.Errorf("jolokia credentials: %w", err)
		}
		vals[i] = strings.TrimSpace(string(b))
	}
	if vals[0] == "" || vals[1] == "" {
		return Credentials{}, errors.New("jolokia credentials " + dir + ": username and password must not be empty")
	}
	return Credentials{Username: vals[0], Password: vals[1]}, nil
}
