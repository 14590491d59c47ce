package casskop

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzImport feeds Import arbitrary manifests. It must never panic; it
// either refuses, every refusal naming its file and what is wrong, or
// writes a repository that ringops validate and render accept. Seeds:
// CassKop's samples.
//
//	go test -fuzz=FuzzImport -fuzztime=60s ./importer/casskop
func FuzzImport(f *testing.F) {
	files, _ := filepath.Glob("testdata/samples/*.yaml")
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte(minimal))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import([]Input{{Name: "fuzz.yaml", Data: data}}, DefaultOptions())
		if err != nil {
			var re *RefusedError
			if !errors.As(err, &re) || len(re.Refusals) == 0 {
				t.Fatalf("an error that is not a refusal: %v", err)
			}
			for _, r := range re.Refusals {
				if r.File == "" || r.Problem == "" {
					t.Fatalf("a refusal without its file or problem: %+v", r)
				}
			}
			if res != nil {
				t.Fatal("a refusal with a result")
			}
			return
		}
		if err := validateRepository(res.Files); err != nil {
			t.Fatalf("the output does not validate:\n%v\ninput:\n%s\noutput:\n%s", err, data, dump(res.Files))
		}
	})
}
