package jolokia

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/ringops/ringops/reconciler/ring"
)

// StorageServiceMBean is the MBean ringops reads and invokes.
const StorageServiceMBean = "org.apache.cassandra.db:type=StorageService"

// healthAttributes are read from StorageService in one multi-attribute
// read. Each exists in 3.11, 4.0, 4.1 and 5.0 (a missing one fails the whole
// read with 404) and is answered from the node's own state: nothing here
// makes the node ask its peers (StorageProxy.SchemaVersions would, for up to
// request_timeout; HostIdMap is gone from 5.0).
var healthAttributes = []string{
	"LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes", "MovingNodes",
	"OperationMode", "EndpointToHostId", "SchemaVersion", "NativeTransportRunning", "ReleaseVersion",
}

// healthRequests is the bulk of one health read: StorageService's health
// attributes and, with Options.ReadLoad, the LoadMap (optional: a failure
// leaves the load empty).
var healthRequests = []Request{
	{Type: "read", MBean: StorageServiceMBean, Attribute: healthAttributes},
	{Type: "read", MBean: StorageServiceMBean, Attribute: "LoadMap"},
}

// healthBodies are the JSON of healthRequests without and with the load.
var healthBodies = [2][]byte{mustJSON(healthRequests[:1]), mustJSON(healthRequests)}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ReadView reads a node's view of the ring in one bulk POST.
func (c *Client) ReadView(ctx context.Context, n ring.Node) (*ring.View, error) {
	reqs, body := healthRequests[:1], healthBodies[0]
	if c.opts.ReadLoad {
		reqs, body = healthRequests, healthBodies[1]
	}
	b, err := c.post(ctx, n, body, 0)
	if err == nil {
		if v, ok := decodeHealthFast(b, len(reqs)); ok {
			return v, nil
		}
		var resps []Response
		if resps, err = parseBulk(b, reqs); err == nil {
			var v *ring.View
			if v, err = decodeView(resps); err == nil {
				return v, nil
			}
		}
	}
	return nil, &ring.NodeError{Node: n, Op: "read health", Err: err}
}

// respHead is the status part of a response.
type respHead struct {
	Status int `json:"status"`
}

// The typed shapes of a healthy health answer.
type (
	ssAnswer struct {
		respHead
		Value *struct {
			LiveNodes, UnreachableNodes, JoiningNodes, LeavingNodes, MovingNodes *[]string
			OperationMode, ReleaseVersion, SchemaVersion                         *string
			EndpointToHostId                                                     *map[string]string
			NativeTransportRunning                                               *bool
		} `json:"value"`
	}
	loadAnswer struct {
		respHead
		Value *map[string]string `json:"value"`
	}
)

// decodeHealthFast decodes a well-formed health answer in one pass. It
// reports false for anything else (an error status, a missing attribute, a
// wrong type, garbage), which the generic path then describes.
func decodeHealthFast(b []byte, n int) (*ring.View, bool) {
	var ss ssAnswer
	var ld loadAnswer
	arr := []any{&ss, &ld}[:n]
	if json.Unmarshal(b, &arr) != nil || len(arr) != n || ss.Status != 200 || (n == 2 && ld.Status == 0) {
		return nil, false
	}
	a := ss.Value
	if a == nil || a.OperationMode == nil || a.ReleaseVersion == nil || a.SchemaVersion == nil ||
		a.EndpointToHostId == nil || a.NativeTransportRunning == nil || a.LiveNodes == nil ||
		a.UnreachableNodes == nil || a.JoiningNodes == nil || a.LeavingNodes == nil || a.MovingNodes == nil {
		return nil, false
	}
	v := &ring.View{
		Live: normalizeList(*a.LiveNodes), Unreachable: normalizeList(*a.UnreachableNodes),
		Joining: normalizeList(*a.JoiningNodes), Leaving: normalizeList(*a.LeavingNodes), Moving: normalizeList(*a.MovingNodes),
		Mode: ring.OperationMode(*a.OperationMode), ReleaseVersion: *a.ReleaseVersion,
		HostIDs: normalizeKeys(*a.EndpointToHostId), SchemaVersion: *a.SchemaVersion,
		NativeTransportRunning: *a.NativeTransportRunning,
	}
	if ld.Status == 200 && ld.Value != nil {
		v.Load = normalizeKeys(*ld.Value)
	}
	return v, true
}

// normalizeList normalises and sorts endpoints in place.
func normalizeList(l []string) []string {
	for i := range l {
		l[i] = ring.NormalizeEndpoint(l[i])
	}
	sort.Strings(l)
	return l
}

// normalizeKeys returns m keyed by normalised endpoints (m itself when its
// keys are normalised already).
func normalizeKeys(m map[string]string) map[string]string {
	clean := true
	for k := range m {
		if ring.NormalizeEndpoint(k) != k {
			clean = false
			break
		}
	}
	if clean {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[ring.NormalizeEndpoint(k)] = v
	}
	return out
}

// decodeView checks the per-request statuses of a health bulk and decodes
// its values. The load is optional: its failure leaves View.Load nil.
func decodeView(resps []Response) (*ring.View, error) {
	if err := resps[0].err(healthRequests[0]); err != nil {
		return nil, err
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(resps[0].Value, &attrs); err != nil || attrs == nil {
		return nil, &ValueError{Attribute: "StorageService health attributes", Want: "an object keyed by attribute", Err: orNull(err)}
	}
	v := &ring.View{}
	d := decoder{attrs: attrs}
	v.Live = d.endpoints("LiveNodes")
	v.Unreachable = d.endpoints("UnreachableNodes")
	v.Joining = d.endpoints("JoiningNodes")
	v.Leaving = d.endpoints("LeavingNodes")
	v.Moving = d.endpoints("MovingNodes")
	v.Mode = ring.OperationMode(d.str("OperationMode"))
	v.ReleaseVersion = d.str("ReleaseVersion")
	v.SchemaVersion = d.str("SchemaVersion")
	v.NativeTransportRunning = d.boolean("NativeTransportRunning")
	v.HostIDs = d.endpointMap("EndpointToHostId")
	if len(resps) > 1 && resps[1].Status == 200 {
		v.Load = (&decoder{attrs: map[string]json.RawMessage{"LoadMap": resps[1].Value}}).endpointMap("LoadMap")
	}
	if d.err != nil {
		return nil, d.err
	}
	return v, nil
}

func orNull(err error) error {
	if err == nil {
		return fmt.Errorf("null")
	}
	return err
}

// decoder decodes attributes, keeping the first error.
type decoder struct {
	attrs map[string]json.RawMessage
	err   error
}

func (d *decoder) decode(name, want string, dst any) bool {
	if d.err != nil {
		return false
	}
	raw, ok := d.attrs[name]
	if !ok {
		d.err = &ValueError{Attribute: name, Want: want, Err: fmt.Errorf("missing from the answer")}
		return false
	}
	if err := json.Unmarshal(raw, dst); err != nil {
		d.err = &ValueError{Attribute: name, Want: want, Err: err}
		return false
	}
	return true
}

// endpoints decodes a list of endpoints; JSON null is an empty list.
func (d *decoder) endpoints(name string) []string {
	var l []string
	if !d.decode(name, "an array of strings", &l) {
		return nil
	}
	return normalizeList(l)
}

func (d *decoder) str(name string) string {
	var s *string
	if !d.decode(name, "a string", &s) {
		return ""
	}
	if s == nil {
		d.err = &ValueError{Attribute: name, Want: "a string", Err: fmt.Errorf("null")}
		return ""
	}
	return *s
}

func (d *decoder) boolean(name string) bool {
	var b *bool
	if !d.decode(name, "a boolean", &b) {
		return false
	}
	if b == nil {
		d.err = &ValueError{Attribute: name, Want: "a boolean", Err: fmt.Errorf("null")}
		return false
	}
	return *b
}

// endpointMap decodes an object keyed by endpoint.
func (d *decoder) endpointMap(name string) map[string]string {
	var m map[string]string
	if !d.decode(name, "an object of strings", &m) {
		return nil
	}
	return normalizeKeys(m)
}
