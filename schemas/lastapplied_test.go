package schemas

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// TestChangeBasisIsEnough: every change of testdata/change is judged the
// same against the recorded basis of the old spec (encoded and decoded)
// as against the old spec itself: the basis holds all the change rules
// read.
func TestChangeBasisIsEnough(t *testing.T) {
	dirs, err := filepath.Glob("testdata/change/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no change cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			prev, err := Load(filepath.Join(dir, "old.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			next, err := Load(filepath.Join(dir, "new.yaml"))
			if err != nil {
				t.Fatal(err)
			}
			recorded, err := DecodeLastApplied(EncodeLastApplied(prev))
			if err != nil {
				t.Fatal(err)
			}
			want, got := ValidateChange(prev, next).Error(), ValidateChange(recorded, next).Error()
			if got != want {
				t.Errorf("against the recorded basis:\n%s\nagainst the spec:\n%s", got, want)
			}
			want, got = ChangeWarnings(prev, next).Error(), ChangeWarnings(recorded, next).Error()
			if got != want {
				t.Errorf("warnings against the recorded basis:\n%s\nagainst the spec:\n%s", got, want)
			}
		})
	}
}

func TestLastAppliedIsSmall(t *testing.T) {
	if n := len(EncodeLastApplied(atBounds())); n > 64<<10 {
		t.Errorf("the basis of a spec at the bounds is %d bytes encoded", n)
	}
}

func TestDecodeLastAppliedRefuses(t *testing.T) {
	for name, s := range map[string]string{
		"not JSON":   "%%%",
		"too large":  strings.Repeat("A", maxLastApplied+1),
		"not a spec": EncodeLastApplied(&CassandraCluster{}),
	} {
		if _, err := DecodeLastApplied(s); !errors.Is(err, ErrLastApplied) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
