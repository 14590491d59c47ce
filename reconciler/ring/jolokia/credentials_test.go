package jolokia

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestCredentialsFromFile(t *testing.T) {
	dir := t.TempDir()
	mounted := filepath.Join(dir, "secret")
	if err := os.Mkdir(mounted, 0o700); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(mounted, "username"), "cassandra\n")
	write(filepath.Join(mounted, "password"), "s3cr3t\n")
	write(filepath.Join(dir, "line"), "cassandra:s3cr3t\n")
	write(filepath.Join(dir, "bad"), "no colon here\n")
	for _, p := range []string{mounted, filepath.Join(dir, "line")} {
		c, err := CredentialsFromFile(p)
		if err != nil || c != (Credentials{"cassandra", "s3cr3t"}) {
			t.Errorf("%s: got %v, %v", p, c, err)
		}
	}
	for _, p := range []string{filepath.Join(dir, "bad"), filepath.Join(dir, "missing")} {
		_, err := CredentialsFromFile(p)
		if err == nil {
			t.Errorf("%s: no error", p)
		}
	}
	_, err := CredentialsFromFile(filepath.Join(dir, "bad"))
	if strings.Contains(err.Error(), "no colon here") {
		t.Errorf("error shows the file's content: %v", err)
	}
}

func TestCredentialsFromSecret(t *testing.T) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "cassandra", Name: "jolokia-auth"},
		Data: map[string][]byte{"username": []byte("cassandra"), "password": []byte("s3cr3t")}}
	c, err := CredentialsFromSecret(s)
	if err != nil || c != (Credentials{"cassandra", "s3cr3t"}) {
		t.Fatalf("got %v, %v", c, err)
	}
	delete(s.Data, "password")
	if _, err := CredentialsFromSecret(s); err == nil || !strings.Contains(err.Error(), "cassandra/jolokia-auth") {
		t.Errorf("missing password: got %v", err)
	}
}
