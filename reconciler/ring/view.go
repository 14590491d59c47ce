package ring

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
)

// MBeans read and invoked by ringops.
const (
	StorageServiceMBean = "org.apache.cassandra.db:type=StorageService"
	StorageProxyMBean   = "org.apache.cassandra.db:type=StorageProxy"
)

// SchemaUnreachable is the key under which StorageProxy.SchemaVersions
// groups the nodes whose schema version could not be asked.
const SchemaUnreachable = "UNREACHABLE"

// OperationMode is StorageService.OperationMode: what a node says it is doing.
type OperationMode string

// Operation modes of Cassandra 3.x to 5.x.
const (
	ModeStarting           OperationMode = "STARTING"
	ModeNormal             OperationMode = "NORMAL"
	ModeJoining            OperationMode = "JOINING"
	ModeLeaving            OperationMode = "LEAVING"
	ModeDecommissioned     OperationMode = "DECOMMISSIONED"
	ModeMoving             OperationMode = "MOVING"
	ModeDraining           OperationMode = "DRAINING"
	ModeDrained            OperationMode = "DRAINED"
	ModeJoiningFailed      OperationMode = "JOINING_FAILED"
	ModeDecommissionFailed OperationMode = "DECOMMISSION_FAILED"
)

// View is one node's view of the ring, read over Jolokia in one bulk POST.
// Endpoints are normalised (NormalizeEndpoint) and lists are sorted.
type View struct {
	// Live, Unreachable: ring members this node's failure detector has up
	// or down (Live includes the node itself).
	Live        []string `json:"live"`
	Unreachable []string `json:"unreachable,omitempty"`
	// Joining, Leaving, Moving: members bootstrapping, decommissioning or
	// moving tokens.
	Joining []string `json:"joining,omitempty"`
	Leaving []string `json:"leaving,omitempty"`
	Moving  []string `json:"moving,omitempty"`
	// Mode is the node's own operation mode.
	Mode OperationMode `json:"mode"`
	// HostIDs maps every ring member's endpoint to its host ID.
	HostIDs map[string]string `json:"hostIDs"`
	// Schema maps each schema version to the endpoints on it, the
	// unreachable ones under SchemaUnreachable.
	Schema map[string][]string `json:"schema"`
	// Load maps endpoints to their load as Cassandra prints it ("1.5 MiB");
	// nil when the agent did not answer it (it is optional).
	Load map[string]string `json:"load,omitempty"`
	// ReleaseVersion is the Cassandra version, e.g. "4.1.5".
	ReleaseVersion string `json:"releaseVersion"`
}

// healthAttributes are read from StorageService in one multi-attribute read.
var healthAttributes = []string{
	"LiveNodes", "UnreachableNodes", "JoiningNodes", "LeavingNodes", "MovingNodes",
	"OperationMode", "HostIdMap", "ReleaseVersion",
}

// healthRequests is the bulk of one health read: StorageService's health
// attributes, StorageProxy.SchemaVersions and, with Options.ReadLoad, the
// LoadMap (optional: a failure leaves the load empty).
var healthRequests = []Request{
	{Type: "read", MBean: StorageServiceMBean, Attribute: healthAttributes},
	{Type: "read", MBean: StorageProxyMBean, Attribute: "SchemaVersions"},
	{Type: "read", MBean: StorageServiceMBean, Attribute: "LoadMap"},
}

// healthBodies are the JSON of healthRequests without and with the load.
var healthBodies = [2][]byte{mustJSON(healthRequests[:2]), mustJSON(healthRequests)}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// ReadView reads a node's view of the ring in one bulk POST.
func (c *Client) ReadView(ctx context.Context, n Node) (*View, error) {
	reqs, body := healthRequests[:2], healthBodies[0]
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
			var v *View
			if v, err = decodeView(resps); err == nil {
				return v, nil
			}
		}
	}
	return nil, &NodeError{Node: n, Op: "read health", Err: err}
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
			OperationMode, ReleaseVersion                                        *string
			HostIdMap                                                            *map[string]string
		} `json:"value"`
	}
	spAnswer struct {
		respHead
		Value *map[string][]string `json:"value"`
	}
	loadAnswer struct {
		respHead
		Value *map[string]string `json:"value"`
	}
)

// decodeHealthFast decodes a well-formed health answer in one pass. It
// reports false for anything else (an error status, a missing attribute, a
// wrong type, garbage), which the generic path then describes.
func decodeHealthFast(b []byte, n int) (*View, bool) {
	var ss ssAnswer
	var sp spAnswer
	var ld loadAnswer
	arr := []any{&ss, &sp, &ld}[:n]
	if json.Unmarshal(b, &arr) != nil || len(arr) != n || ss.Status != 200 || sp.Status != 200 || (n == 3 && ld.Status == 0) {
		return nil, false
	}
	a := ss.Value
	if a == nil || sp.Value == nil || a.OperationMode == nil || a.ReleaseVersion == nil || a.HostIdMap == nil ||
		a.LiveNodes == nil || a.UnreachableNodes == nil || a.JoiningNodes == nil || a.LeavingNodes == nil || a.MovingNodes == nil {
		return nil, false
	}
	v := &View{
		Live: normalizeList(*a.LiveNodes), Unreachable: normalizeList(*a.UnreachableNodes),
		Joining: normalizeList(*a.JoiningNodes), Leaving: normalizeList(*a.LeavingNodes), Moving: normalizeList(*a.MovingNodes),
		Mode: OperationMode(*a.OperationMode), ReleaseVersion: *a.ReleaseVersion,
		HostIDs: normalizeKeys(*a.HostIdMap), Schema: *sp.Value,
	}
	for _, eps := range v.Schema {
		normalizeList(eps)
	}
	if ld.Status == 200 && ld.Value != nil {
		v.Load = normalizeKeys(*ld.Value)
	}
	return v, true
}

// normalizeList normalises and sorts endpoints in place.
func normalizeList(l []string) []string {
	for i := range l {
		l[i] = NormalizeEndpoint(l[i])
	}
	sort.Strings(l)
	return l
}

// normalizeKeys returns m keyed by normalised endpoints (m itself when its
// keys are normalised already).
func normalizeKeys(m map[string]string) map[string]string {
	clean := true
	for k := range m {
		if NormalizeEndpoint(k) != k {
			clean = false
			break
		}
	}
	if clean {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[NormalizeEndpoint(k)] = v
	}
	return out
}

// decodeView checks the per-request statuses of a health bulk and decodes
// its values. The load is optional: its failure leaves View.Load nil.
func decodeView(resps []Response) (*View, error) {
	for i := range 2 {
		if err := resps[i].err(healthRequests[i]); err != nil {
			return nil, err
		}
	}
	var attrs map[string]json.RawMessage
	if err := json.Unmarshal(resps[0].Value, &attrs); err != nil || attrs == nil {
		return nil, &ValueError{Attribute: "StorageService health attributes", Want: "an object keyed by attribute", Err: orNull(err)}
	}
	v := &View{}
	d := decoder{attrs: attrs}
	v.Live = d.endpoints("LiveNodes")
	v.Unreachable = d.endpoints("UnreachableNodes")
	v.Joining = d.endpoints("JoiningNodes")
	v.Leaving = d.endpoints("LeavingNodes")
	v.Moving = d.endpoints("MovingNodes")
	v.Mode = OperationMode(d.str("OperationMode"))
	v.ReleaseVersion = d.str("ReleaseVersion")
	v.HostIDs = d.endpointMap("HostIdMap")
	v.Schema = decodeSchema(&d, resps[1].Value)
	if len(resps) > 2 && resps[2].Status == 200 {
		v.Load = (&decoder{attrs: map[string]json.RawMessage{"LoadMap": resps[2].Value}}).endpointMap("LoadMap")
	}
	return v, d.err
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

// endpointMap decodes an object keyed by endpoint.
func (d *decoder) endpointMap(name string) map[string]string {
	var m map[string]string
	if !d.decode(name, "an object of strings", &m) {
		return nil
	}
	return normalizeKeys(m)
}

func decodeSchema(d *decoder, raw json.RawMessage) map[string][]string {
	var m map[string][]string
	sd := decoder{attrs: map[string]json.RawMessage{"SchemaVersions": raw}}
	if !sd.decode("SchemaVersions", "an object of string arrays", &m) {
		if d.err == nil {
			d.err = sd.err
		}
		return nil
	}
	for _, eps := range m {
		normalizeList(eps)
	}
	return m
}
