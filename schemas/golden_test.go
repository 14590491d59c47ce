package schemas

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ringops/ringops/internal/testkit/golden"
)

// TestInvalid loads every testdata/invalid/<case>.yaml and compares the
// errors, exactly as `ringops validate` prints them, with <case>.want.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			c, err := Load(f)
			if err == nil {
				t.Fatalf("Load(%s) succeeded; want errors", f)
			}
			if c != nil {
				t.Errorf("Load returned a cluster with its error")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, not an ErrorList: %v", err, err)
			}
			golden.AssertString(t, strings.TrimSuffix(f, ".yaml")+".want", err.Error()+"\n")
		})
	}
}

// TestValid loads every testdata/valid/<case>.yaml and compares the
// defaulted cluster with <case>.want.
func TestValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no valid cases: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".yaml"), func(t *testing.T) {
			c, err := Load(f)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if errs := c.Validate(); len(errs) > 0 {
				t.Errorf("Validate of the loaded cluster: %v", errs)
			}
			out, err := yaml.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			golden.AssertString(t, strings.TrimSuffix(f, ".yaml")+".want", string(out))
		})
	}
}

// TestChange validates every change testdata/change/<case>/{old,new}.yaml
// and compares the errors with want.txt ("ok" when the change is allowed),
// followed by the warnings ("warning: ...").
func TestChange(t *testing.T) {
	dirs, err := filepath.Glob("testdata/change/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no change cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			prev, err := Load(filepath.Join(dir, "old.yaml"))
			if err != nil {
				t.Fatalf("old.yaml: %v", err)
			}
			next, err := Load(filepath.Join(dir, "new.yaml"))
			if err != nil {
				t.Fatalf("new.yaml: %v", err)
			}
			got := "ok\n"
			if errs := ValidateChange(prev, next); len(errs) > 0 {
				got = errs.Error() + "\n"
			}
			for _, w := range ChangeWarnings(prev, next) {
				got += "warning: " + w.Error() + "\n"
			}
			golden.AssertString(t, filepath.Join(dir, "want.txt"), got)
		})
	}
}
