//go:build unix

package schemas

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A named pipe would block a reader forever: Load must refuse it without
// opening it.
func TestLoadRefusesFIFO(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if got := mustFail(t, p); !strings.Contains(got, "is not a regular file (p---------); expected a YAML file") {
		t.Errorf("error = %q", got)
	}
}
