package kubelet

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"
)

// probeClient is shared by every readiness probe; it never uses a proxy,
// and takes any certificate of an agent that serves HTTPS only (a real
// exec probe could not read it at all: render gives it a loopback
// listener).
var probeClient = &http.Client{Transport: &http.Transport{
	Proxy:           nil,
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the probe judges the mode, not the agent

	MaxIdleConnsPerHost: 1,
	IdleConnTimeout:     5 * time.Second,
}}

// readinessRead is the Jolokia read the readiness probe posts (the
// rendered probe reads the same two attributes).
var readinessRead = []byte(`{"type":"read","mbean":"org.apache.cassandra.db:type=StorageService","attribute":["OperationMode","NativeTransportRunning"]}`)

// jolokiaURLer is implemented by containers that know their agent's URL
// (the simulator picks a port when the pod names none).
type jolokiaURLer interface{ JolokiaURL() string }

// jolokiaURL is the URL the readiness probe reads: the agent's plain-HTTP
// listener on the pod's loopback when the pod loads one (with
// spec.jolokia.tls: bash speaks no TLS), the pod IP standing for the
// loopback in the local world; else the container's own, else the pod
// IP and the port named jolokia.
func jolokiaURL(c Container, spec Spec) string {
	for _, a := range spec.JolokiaAgents {
		if p := a.Options["protocol"]; a.Options["host"] == "127.0.0.1" && (p == "" || p == "http") && a.Options["port"] != "" {
			return "http://" + net.JoinHostPort(spec.IP, a.Options["port"]) + "/jolokia/"
		}
	}
	if j, ok := c.(jolokiaURLer); ok {
		if url := j.JolokiaURL(); url != "" {
			return url
		}
	}
	if spec.JolokiaPort == 0 {
		return ""
	}
	return "http://" + net.JoinHostPort(spec.IP, strconv.Itoa(spec.JolokiaPort)) + "/jolokia/"
}

// probeJolokia asks the node's Jolokia agent for StorageService's
// OperationMode and NativeTransportRunning, as the rendered readiness probe
// does, and reports whether it answered NORMAL and serving CQL.
func probeJolokia(ctx context.Context, url string, spec Spec, timeout time.Duration) error {
	if url == "" {
		return fmt.Errorf("readiness probe: no port named jolokia")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(readinessRead))
	if err != nil {
		return fmt.Errorf("readiness probe: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if spec.JolokiaUser != "" {
		req.SetBasicAuth(spec.JolokiaUser, spec.JolokiaPassword)
	}
	resp, err := probeClient.Do(req)
	if err != nil {
		return fmt.Errorf("readiness probe: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("readiness probe: HTTP %s", resp.Status)
	}
	var body struct {
		Status int `json:"status"`
		Value  struct {
			OperationMode          string
			NativeTransportRunning bool
		} `json:"value"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("readiness probe: decode: %w", err)
	}
	if body.Status != http.StatusOK {
		return fmt.Errorf("readiness probe: jolokia status %d: %s", body.Status, body.Error)
	}
	if v := body.Value; v.OperationMode != "NORMAL" || !v.NativeTransportRunning {
		return fmt.Errorf("readiness probe: OperationMode %s, NativeTransportRunning %v", v.OperationMode, v.NativeTransportRunning)
	}
	return nil
}
