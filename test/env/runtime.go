package env

import (
	"context"
	"strings"

	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/kubelet"
)

// simRuntime runs the kubelets' Cassandra containers on the simulator.
type simRuntime struct{ sim *cassandra.Sim }

var _ kubelet.Runtime = simRuntime{}

var _ kubelet.Container = (*cassandra.Node)(nil)

func (s simRuntime) Start(ctx context.Context, spec kubelet.Spec) (kubelet.Container, error) {
	n, err := s.sim.Start(ctx, cassandra.NodeConfig{
		Key: spec.Key, Pod: spec.Pod, Namespace: spec.Namespace, Region: spec.Region, IP: spec.IP,
		ClusterName: spec.ClusterName, DC: spec.DC, Rack: spec.Rack, Seeds: spec.Seeds,
		JolokiaPort: spec.JolokiaPort, JolokiaUser: spec.JolokiaUser, JolokiaPassword: spec.JolokiaPassword,
		ReleaseVersion: cassandra.ReleaseOfImage(spec.Image),
		// cassandra-env.sh appends JVM_EXTRA_OPTS to the JVM's options, split at blanks.
		JVMOptions: strings.Fields(spec.Env["JVM_EXTRA_OPTS"]),
	})
	if err != nil {
		return nil, err
	}
	return n, nil
}
