package env

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ringops/ringops/test/env/cassandra"
	"github.com/ringops/ringops/test/env/jolokia"
	"github.com/ringops/ringops/test/env/kubelet"
)

// simRuntime runs the kubelets' Cassandra containers on the simulator.
type simRuntime struct{ sim *cassandra.Sim }

var _ kubelet.Runtime = simRuntime{}

var _ kubelet.Container = (*cassandra.Node)(nil)

func (s simRuntime) Start(ctx context.Context, spec kubelet.Spec) (kubelet.Container, error) {
	cfg := cassandra.NodeConfig{
		Key: spec.Key, Pod: spec.Pod, Namespace: spec.Namespace, Region: spec.Region, IP: spec.IP,
		ClusterName: spec.ClusterName, DC: spec.DC, Rack: spec.Rack, Seeds: spec.Seeds,
		JolokiaPort: spec.JolokiaPort, JolokiaUser: spec.JolokiaUser, JolokiaPassword: spec.JolokiaPassword,
		ReleaseVersion: cassandra.ReleaseOfImage(spec.Image),
		Authenticator:  spec.Authenticator,
		// cassandra-env.sh appends JVM_EXTRA_OPTS to the JVM's options, split at blanks.
		JVMOptions: strings.Fields(spec.Env["JVM_EXTRA_OPTS"]),
	}
	simAgents(&cfg, spec)
	n, err := s.sim.Start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// simAgents gives the node the agents the pod loads: the one on the port
// named jolokia, over HTTPS when its options say protocol=https (an
// error there leaves the port closed, as the JVM agent does not start),
// and a plain-HTTP one on the pod's loopback (host 127.0.0.1, render's
// listener for the readiness probe with spec.jolokia.tls). Other agents
// are not simulated.
func simAgents(cfg *cassandra.NodeConfig, spec kubelet.Spec) {
	for _, a := range spec.JolokiaAgents {
		port, err := strconv.Atoi(a.Options["port"])
		if err != nil {
			continue
		}
		switch {
		case a.Options["host"] == "127.0.0.1" && (a.Options["protocol"] == "" || a.Options["protocol"] == "http"):
			cfg.JolokiaProbePort = port
		case port == spec.JolokiaPort:
			t, err := jolokia.AgentTLSFromOptions(a.Options, func(p string) ([]byte, error) {
				if b, ok := a.Files[p]; ok {
					return b, nil
				}
				return nil, errors.New("not in the pod")
			})
			if err != nil {
				cfg.JolokiaAgentError = fmt.Errorf("pod %s: %w", spec.Pod, err)
				continue
			}
			cfg.JolokiaTLS = t
		}
	}
}
