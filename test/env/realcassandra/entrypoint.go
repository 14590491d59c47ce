package realcassandra

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// entrypoint does to the container's /etc/cassandra what the official
// image's docker-entrypoint.sh does before it starts `cassandra -f`:
//
//   - CASSANDRA_LISTEN_ADDRESS defaults to the pod IP ("auto"),
//     CASSANDRA_BROADCAST_ADDRESS to the listen address,
//     CASSANDRA_BROADCAST_RPC_ADDRESS to the broadcast address,
//     CASSANDRA_RPC_ADDRESS to 0.0.0.0 (the pod's own addresses: its IP
//     here), CASSANDRA_SEEDS to the broadcast address;
//   - the seeds line of cassandra.yaml becomes `- seeds: "<CASSANDRA_SEEDS>"`;
//   - broadcast_address, broadcast_rpc_address, cluster_name,
//     endpoint_snitch, listen_address, num_tokens, rpc_address are set from
//     CASSANDRA_<KEY> when that variable is not empty (a commented
//     `# key:` line is uncommented);
//   - dc and rack of cassandra-rackdc.properties from CASSANDRA_DC and
//     CASSANDRA_RACK.
func entrypoint(confDir, podIP string, env map[string]string) error {
	get := func(k, def string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return def
	}
	vars := map[string]string{}
	listen := get("CASSANDRA_LISTEN_ADDRESS", "auto")
	if listen == "auto" {
		listen = podIP
	}
	broadcast := get("CASSANDRA_BROADCAST_ADDRESS", listen)
	if broadcast == "auto" {
		broadcast = podIP
	}
	vars["listen_address"] = listen
	vars["broadcast_address"] = broadcast
	vars["broadcast_rpc_address"] = valueOr(env["CASSANDRA_BROADCAST_RPC_ADDRESS"], broadcast)
	vars["rpc_address"] = rewriteAddresses(get("CASSANDRA_RPC_ADDRESS", "0.0.0.0"), podIP)
	for _, k := range []string{"cluster_name", "endpoint_snitch", "num_tokens"} {
		vars[k] = env["CASSANDRA_"+strings.ToUpper(k)]
	}
	seeds := valueOr(env["CASSANDRA_SEEDS"], broadcast)

	yamlPath := filepath.Join(confDir, "cassandra.yaml")
	y, err := os.ReadFile(yamlPath)
	if err != nil {
		return fmt.Errorf("entrypoint: %w", err)
	}
	out := seedsLine.ReplaceAllString(string(y), `${1} "`+escapeRepl(seeds)+`"`)
	for _, k := range []string{"broadcast_address", "broadcast_rpc_address", "cluster_name", "endpoint_snitch", "listen_address", "num_tokens", "rpc_address"} {
		if v := vars[k]; v != "" {
			re := regexp.MustCompile(`(?m)^(# )?(` + k + `:).*$`)
			out = re.ReplaceAllString(out, "${2} "+escapeRepl(v))
		}
	}
	if err := os.WriteFile(yamlPath, []byte(out), 0o644); err != nil {
		return fmt.Errorf("entrypoint: %w", err)
	}

	rackdcPath := filepath.Join(confDir, "cassandra-rackdc.properties")
	p, err := os.ReadFile(rackdcPath)
	if err != nil {
		return fmt.Errorf("entrypoint: %w", err)
	}
	props := string(p)
	for _, k := range []string{"dc", "rack"} {
		if v := env["CASSANDRA_"+strings.ToUpper(k)]; v != "" {
			re := regexp.MustCompile(`(?m)^(` + k + `=).*$`)
			props = re.ReplaceAllString(props, "${1} "+escapeRepl(v))
		}
	}
	if err := os.WriteFile(rackdcPath, []byte(props), 0o644); err != nil {
		return fmt.Errorf("entrypoint: %w", err)
	}
	return nil
}

var seedsLine = regexp.MustCompile(`(?m)(- seeds:).*$`)

func escapeRepl(s string) string { return strings.ReplaceAll(s, "$", "$$") }

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
