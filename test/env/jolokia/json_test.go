package jolokia

import (
	"math"
	"slices"
	"testing"
)

// The expected orders and texts below are the real agent's, as observed.

func TestObjectKeysComeOutInJavaHashMapOrder(t *testing.T) {
	tests := []struct {
		name      string
		inserted  []string
		wantOrder []string
	}{
		{"success answer", []string{"value", "request", "timestamp", "status"},
			[]string{"request", "value", "timestamp", "status"}},
		{"colliding keys keep insertion order", []string{"value", "request", "status", "timestamp"},
			[]string{"request", "value", "status", "timestamp"}},
		{"error answer", []string{"status", "error", "error_type", "error_value", "stacktrace", "request"},
			[]string{"error_value", "request", "stacktrace", "error_type", "error", "status"}},
		{"map keys", []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"},
			[]string{"10.0.0.4", "10.0.0.3", "10.0.0.2", "10.0.0.1"}},
		{"table grows past 12 keys: the version config", []string{"historyMaxEntries", "debug",
			"debugMaxEntries", "maxDepth", "maxCollectionSize", "maxObjects", "policyLocation",
			"allowDnsReverseLookup", "includeStackTrace", "serializeException", "allowErrorDetails",
			"canonicalNaming", "streaming", "mimeType", "discoveryEnabled", "multicastGroup", "multicastPort",
			"realm", "authMode", "authMatch", "authIgnoreCerts", "agentContext", "useRestrictorService",
			"listenForHttpService", "agentId", "agentType"},
			[]string{"listenForHttpService", "maxCollectionSize", "authIgnoreCerts", "agentId", "agentType",
				"policyLocation", "agentContext", "mimeType", "discoveryEnabled", "streaming", "historyMaxEntries",
				"allowDnsReverseLookup", "maxObjects", "debug", "serializeException", "multicastGroup", "maxDepth",
				"authMode", "authMatch", "canonicalNaming", "allowErrorDetails", "realm", "includeStackTrace",
				"multicastPort", "useRestrictorService", "debugMaxEntries"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newObject()
			for _, k := range tt.inserted {
				o.put(k, nil)
			}
			if got := o.order(); !slices.Equal(got, tt.wantOrder) {
				t.Errorf("order = %v, want %v", got, tt.wantOrder)
			}
		})
	}
}

func TestStringsAreEscapedAsJSONSimple(t *testing.T) {
	in := "é\u2028\u0001\u007f\u009f\u00a0/\"\\\b\f\n\r\t😀 \u20ff\u2100<>&'"
	want := `"é\u2028\u0001\u007F\u009F` + "\u00a0" + `\/\"\\\b\f\n\r\t😀 \u20FF` + "\u2100" + `<>&'"`
	if got := encodeJSON(in); got != want {
		t.Errorf("encodeJSON = %s, want %s", got, want)
	}
}

func TestDoublesAreWrittenAsJavaDoubles(t *testing.T) {
	tests := map[float64]string{
		1: "1.0", 100: "100.0", 1e7: "1.0E7", 1e-3: "0.001", 1e-4: "1.0E-4", 123456789.123: "1.23456789123E8",
		math.Copysign(0, -1): "-0.0", 2e-3: "0.002", 2.5: "2.5", 1e20: "1.0E20", 1234567: "1234567.0", -0.5: "-0.5",
		math.Inf(1): "null", math.NaN(): "null",
	}
	for f, want := range tests {
		if got := encodeJSON(f); got != want {
			t.Errorf("encodeJSON(%v) = %s, want %s", f, got, want)
		}
	}
}

func TestGoValuesAreWrittenAsTheAgentSerialisesJava(t *testing.T) {
	v := map[string]any{
		"list":  []string{"a", "b"},
		"map":   map[string][]string{"UNREACHABLE": {"10.0.0.4"}},
		"int":   int32(1),
		"long":  int64(1234567890123),
		"bool":  true,
		"null":  nil,
		"empty": []string{},
	}
	// Key order as java.util.HashMap iterates these keys (checked with a JVM).
	want := `{"bool":true,"null":null,"list":["a","b"],"map":{"UNREACHABLE":["10.0.0.4"]},"int":1,"long":1234567890123,"empty":[]}`
	if got := encodeJSON(v); got != want {
		t.Errorf("encodeJSON = %s\nwant            %s", got, want)
	}
}

func TestPostBodiesParseAsJSONSimple(t *testing.T) {
	v, err := decodeBody([]byte(`{"a":[1,2.50,1e400,"x",null,true],"b":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := encodeJSON(v), `{"a":[1,2.5,null,"x",null,true],"b":{}}`; got != want {
		t.Errorf("round trip = %s, want %s", got, want)
	}
	for body, wantErr := range map[string]string{
		`{bad`:                   "java.lang.IllegalArgumentException : Invalid JSON request java.io.InputStreamReader@",
		``:                       "java.lang.IllegalArgumentException : Invalid JSON request java.io.InputStreamReader@",
		`{} trailing`:            "java.lang.IllegalArgumentException : Invalid JSON request java.io.InputStreamReader@",
		`[12345678901234567890]`: `java.lang.NumberFormatException : For input string: "12345678901234567890"`,
	} {
		_, err := decodeBody([]byte(body))
		if err == nil || len(err.Error()) < len(wantErr) || err.Error()[:len(wantErr)] != wantErr {
			t.Errorf("decodeBody(%q) error = %v, want %q...", body, err, wantErr)
		}
	}
}
