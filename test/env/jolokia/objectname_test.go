package jolokia

import (
	"slices"
	"testing"
)

func TestObjectNamesAreParsedAsJMXDoes(t *testing.T) {
	tests := []struct {
		name, canonical string
		pattern         bool
	}{
		{"org.apache.cassandra.db:type=StorageService", "org.apache.cassandra.db:type=StorageService", false},
		{"ringops.test:type=Faulty,name=one", "ringops.test:name=one,type=Faulty", false},
		{"d:*,k=v", "d:k=v,*", true},
		{"d:k=v*", "d:k=v*", true},
		{"d*:k=v", "d*:k=v", true},
		{`d:k="q,x"`, `d:k="q,x"`, false},
		{"d:k=", "d:k=", false},
	}
	for _, tt := range tests {
		on, err := parseObjectName(tt.name)
		if err != nil {
			t.Errorf("parseObjectName(%q): %v", tt.name, err)
			continue
		}
		if on.canonical() != tt.canonical || on.isPattern() != tt.pattern {
			t.Errorf("%q: canonical %q pattern %v, want %q %v", tt.name, on.canonical(), on.isPattern(), tt.canonical, tt.pattern)
		}
	}
}

func TestMalformedObjectNamesFailWithTheAgentsMessage(t *testing.T) {
	for name, want := range map[string]string{
		"nocolon":           "Key properties cannot be empty",
		"d:":                "Key properties cannot be empty",
		"d:k":               "Unterminated key property part",
		"d:=v":              "Invalid key (empty)",
		"d:k=v,k=w":         "key `k' already defined",
		"d:k=v,":            "Invalid ending comma",
		"d:k=v,,j=w":        "Invalid character ',' in key part of property",
		"d:k=a:b":           "Invalid character ':' in value part of property",
		"d:k=a=b":           "Invalid character '=' in value part of property",
		`d:k="unterminated`: "Unterminated quoted value",
		"d:k*=v":            "Invalid character '*' in key part of property",
	} {
		_, err := parseObjectName(name)
		if err == nil || err.Error() != "java.lang.IllegalArgumentException : Invalid object name. "+want {
			t.Errorf("parseObjectName(%q) = %v, want %q", name, err, want)
		}
	}
}

func TestPatternsSelectMBeans(t *testing.T) {
	names := []string{storageServiceName, storageProxyName, failureDetectorName, faultyName}
	for pattern, want := range map[string][]string{
		"org.apache.cassandra.*:*":                  {storageServiceName, storageProxyName, failureDetectorName},
		"org.apache.cassandra.db:type=Storage*":     {storageServiceName, storageProxyName},
		"org.apache.cassandra.db:type=StoragePr?xy": {storageProxyName},
		"ringops.test:name=one,*":                   {faultyName},
		"ringops.test:name=one":                     nil,
		"*:type=FailureDetector":                    {failureDetectorName},
	} {
		p, err := parseObjectName(pattern)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, n := range names {
			on, _ := parseObjectName(n)
			if p.matches(on) {
				got = append(got, n)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s selects %v, want %v", pattern, got, want)
		}
	}
}

func TestPathsSplitOnUnescapedSlashes(t *testing.T) {
	star := "*"
	for in, want := range map[string][]string{
		"a!/b!!c!": {"a/b!c!"},
		"a//b":     {"a", "", "b"},
		"a/":       {"a"},
		"a/*/b":    {"a", star, "b"},
		"":         nil,
		"/":        nil,
	} {
		parts := parsePath(in)
		var got []string
		for _, p := range parts {
			if p == nil {
				got = append(got, star)
				continue
			}
			got = append(got, *p)
		}
		if !slices.Equal(got, want) {
			t.Errorf("parsePath(%q) = %q, want %q", in, got, want)
		}
	}
}
