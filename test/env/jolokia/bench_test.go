package jolokia

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// BenchmarkBulkHealthRead is ringops' health gate against one node: one
// POST carrying the seven StorageService health attributes and
// SchemaVersions, through the Handler over loopback HTTP (keep-alive).
func BenchmarkBulkHealthRead(b *testing.B) {
	s := NewServer(testRegistry(b), Options{})
	if err := s.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Stop() })
	var reqs []string
	for _, a := range []string{"LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes", "MovingNodes", "OperationMode", "HostIdMap"} {
		reqs = append(reqs, `{"type":"read","mbean":"`+storageServiceName+`","attribute":"`+a+`"}`)
	}
	reqs = append(reqs, `{"type":"read","mbean":"`+storageProxyName+`","attribute":"SchemaVersions"}`)
	body := "[" + strings.Join(reqs, ",") + "]"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	b.Cleanup(client.CloseIdleConnections)
	url := s.URL()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Post(url, "application/json", strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		out, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || strings.Count(string(out), `"status":200`) != len(reqs) {
			b.Fatalf("HTTP %d %v: %s", resp.StatusCode, err, out)
		}
	}
}
