package harness

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Binary is the ringops binary built by Main.
var Binary string

// Main is a TestMain: it builds the binary, runs the tests, then stops
// the worlds they started, keeping each one's directory (and printing
// its logs) when a test failed. With -short it only runs the tests.
func Main(m *testing.M, worlds ...*World) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "ringops-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	Binary = filepath.Join(dir, "ringops")
	if err := build(Binary); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		os.Exit(1)
	}
	code := m.Run()
	for _, w := range worlds {
		w.stop(code)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

// build compiles ./cmd/ringops into path.
func build(path string) error {
	cmd := exec.Command("go", "build", "-o", path, "github.com/ringops/ringops/cmd/ringops")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build ./cmd/ringops: %w\n%s", err, out)
	}
	return nil
}
