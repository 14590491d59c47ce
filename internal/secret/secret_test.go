package secret

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("hunter2")
	var log bytes.Buffer
	slog.New(slog.NewJSONHandler(&log, nil)).Info("x", "secret", s)
	js, err := json.Marshal(struct{ Token Secret }{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %s %q %x %#v %+v", s, s, s, s, s, s), s.String(), log.String(), string(js)} {
		if strings.Contains(out, "hunter2") || strings.Contains(out, hex.EncodeToString(s)) {
			t.Errorf("secret leaked: %q", out)
		}
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(path, []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := ReadFile(path); err != nil || string(s) != "s3cret" {
		t.Errorf("ReadFile = %q, %v; want s3cret", string(s), err)
	}
	if _, err := ReadFile(path + ".missing"); !os.IsNotExist(err) {
		t.Errorf("ReadFile of a missing file: %v, want not exist", err)
	}
	t.Setenv("RINGOPS_TEST_SECRET", " tok\n")
	if s := FromEnv("RINGOPS_TEST_SECRET"); string(s) != "tok" {
		t.Errorf("FromEnv = %q, want tok", string(s))
	}
}

func TestEqual(t *testing.T) {
	s := Secret("s3cret")
	for given, want := range map[string]bool{"s3cret": true, "s3cre": false, "s3cret ": false, "": false, "S3cret": false} {
		if got := s.Equal([]byte(given)); got != want {
			t.Errorf("Equal(%q) = %v, want %v", given, got, want)
		}
	}
}
