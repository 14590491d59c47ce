package schemas

import (
	"os"
	"testing"
)

// BenchmarkParse parses, defaults and validates a 3-datacenter spec with
// every field set (testdata/valid/full.yaml).
func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/valid/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("cluster.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateChange compares two parsed 3-datacenter specs.
func BenchmarkValidateChange(b *testing.B) {
	c, err := Load("testdata/valid/full.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateChange(c, c); len(errs) > 0 {
			b.Fatal(errs)
		}
	}
}
