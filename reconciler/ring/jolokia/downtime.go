package jolokia

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ringops/ringops/reconciler/ring"
)

// GossiperMBean is the Gossiper (3.11.17 to 5.0.1: GossiperMBean.java).
const GossiperMBean = "org.apache.cassandra.net:type=Gossiper"

// Downtime asks via how long its failure detector has had address down
// (Gossiper.getEndpointDowntime(String), 5.0.1 Gossiper.java:2380 and
// :536-543: the time since it was marked down, 0 when it is not down).
// It is a plain call, no operation: it takes no turn of Operations.
func (o *Operations) Downtime(ctx context.Context, via ring.Node, address string) (time.Duration, error) {
	raw, err := o.ops.Exec(ctx, via, Call{MBean: GossiperMBean, Operation: "getEndpointDowntime", Args: []any{address}})
	if err != nil {
		return 0, fmt.Errorf("downtime of %s via %s: %w", address, via.Pod, err)
	}
	var ms json.Number
	if err := json.Unmarshal(raw, &ms); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return 0, fmt.Errorf("downtime of %s via %s: %w", address, via.Pod, &ValueError{Attribute: "getEndpointDowntime", Want: "a number of milliseconds", Err: err})
		}
		ms = json.Number(s)
	}
	v, err := ms.Int64()
	if err != nil || v < 0 {
		return 0, fmt.Errorf("downtime of %s via %s: %w", address, via.Pod, &ValueError{Attribute: "getEndpointDowntime", Want: "a number of milliseconds", Err: fmt.Errorf("%q", ms)})
	}
	return time.Duration(v) * time.Millisecond, nil
}
