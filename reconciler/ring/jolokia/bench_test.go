package jolokia_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
	"github.com/ringops/ringops/reconciler/ring/jolokia"
)

// BenchmarkSnapshot27 takes one health snapshot of a simulated ring of 3
// regions x 9 nodes (3 racks of 3), every node answering over the Jolokia
// emulation on its own loopback IP, and judges it. One op = 27 bulk POSTs
// (16 at a time) + Assess.
func BenchmarkSnapshot27(b *testing.B) {
	o := fastSimOptions()
	o.GossipInterval = 200 * time.Millisecond // less background gossip while measuring
	r := startSimRing(b, ringSpec{DCs: 3, Racks: 3, PerRack: 3, AllSeeds: true, Options: o})
	c := jolokia.NewClient(jolokia.NewDirect(jolokia.DirectOptions{}), jolokia.DefaultOptions())
	exp := ring.Expected{Nodes: r.nodes}
	eventually(b, "healthy", func() (bool, string) { res := assess(c, exp); return res.Healthy, res.String() })
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res := ring.Assess(ring.Take(context.Background(), c, exp.Nodes, ring.DefaultSnapshotOptions()), exp)
		if !res.Healthy {
			b.Fatal(res)
		}
	}
}

// BenchmarkSnapshot300 takes one snapshot of a 300-node ring (3 regions x
// 100) from in-process agents on 300 loopback IPs, each answering the
// health bulk of a healthy 300-node ring (about 45 KiB), with the
// concurrency bounded at 16 and 64 reads in flight, and judges it.
func BenchmarkSnapshot300(b *testing.B) {
	nodes := startStaticAgents(b, 3, 100)
	c := jolokia.NewClient(jolokia.NewDirect(jolokia.DirectOptions{}), jolokia.DefaultOptions())
	exp := ring.Expected{Nodes: nodes}
	for _, conc := range []int{16, 64} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s := ring.Take(context.Background(), c, nodes, ring.SnapshotOptions{Concurrency: conc})
				if res := ring.Assess(s, exp); !res.Healthy {
					b.Fatal(res)
				}
			}
		})
	}
}

// startStaticAgents serves, on dcs x perDC loopback IPs, a Jolokia agent
// whose every answer is the health bulk of the healthy ring they form.
func startStaticAgents(b *testing.B, dcs, perDC int) []ring.Node {
	block := loopbackBlock(b)
	var nodes []ring.Node
	var ips []string
	for d := 1; d <= dcs; d++ {
		for i := 0; i < perDC; i++ {
			n := ring.Node{Cluster: "orders", Context: regionNames[d-1], Namespace: "cassandra",
				Pod: fmt.Sprintf("orders-dc%d-r1-%d", d, i), Datacenter: fmt.Sprintf("dc%d", d), Rack: "r1",
				IP: fmt.Sprintf("127.%d.%d.%d", block, d, i+1), Port: 8778}
			nodes = append(nodes, n)
			ips = append(ips, n.IP)
		}
	}
	body := healthAnswer(b, ips)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = w.Write(body)
	})
	for _, n := range nodes {
		l, err := net.Listen("tcp", net.JoinHostPort(n.IP, "8778"))
		if err != nil {
			b.Fatal(err)
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		b.Cleanup(func() { _ = srv.Close() })
	}
	return nodes
}

// healthAnswer is the bulk answer of a node of a healthy ring of ips.
func healthAnswer(b testing.TB, ips []string) []byte {
	hostIDs := map[string]string{}
	for i, ip := range ips {
		hostIDs[ip] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
	}
	body, err := json.Marshal([]map[string]any{
		{"status": 200, "timestamp": 1700000000, "value": map[string]any{
			"LiveNodes": ips, "UnreachableNodes": []string{}, "JoiningNodes": []string{}, "LeavingNodes": []string{},
			"MovingNodes": []string{}, "OperationMode": "NORMAL", "EndpointToHostId": hostIDs, "ReleaseVersion": "5.0.9",
			"SchemaVersion": "59adb24e-f3cd-3e02-97f0-5b395827453f", "NativeTransportRunning": true}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkAssess300 is the pure part of BenchmarkSnapshot300: judging a
// snapshot of 300 views of 300 nodes, with nothing read.
func BenchmarkAssess300(b *testing.B) {
	nodes := startStaticAgents(b, 3, 100)
	c := jolokia.NewClient(jolokia.NewDirect(jolokia.DirectOptions{}), jolokia.DefaultOptions())
	s := ring.Take(context.Background(), c, nodes, ring.DefaultSnapshotOptions())
	exp := ring.Expected{Nodes: nodes}
	b.ReportAllocs()
	for b.Loop() {
		if res := ring.Assess(s, exp); !res.Healthy {
			b.Fatal(res)
		}
	}
}
