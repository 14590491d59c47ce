#!/usr/bin/env bash
# make demo: roll clusters-example out into the local 3-region world.
#
# Builds ringops, starts the local world of test/env (real kube-apiservers and
# controller managers, simulated kubelets and Cassandra nodes), validates and
# renders the example, rolls it out with `ringops apply --wait` (seed region
# first, one node at a time, every step gated on ring health read over
# Jolokia), shows the ring with `ringops status`, then grows a rack in us-east
# and rolls that out too. Everything it started is stopped at the end or on
# Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

dir="${RINGOPS_DEMO_DIR:-${TMPDIR:-/tmp}/ringops-demo}"
work="$dir/repo"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

say "building ringops and the local world"
make -s build
go build -o bin/sandbox ./test/env/cmd/sandbox
RINGOPS_CONTROLPLANE_DIR="$(test/env/tools/controlplane/build.sh)"
export RINGOPS_CONTROLPLANE_DIR

stop() {
  say "stopping the local world"
  bin/sandbox down -dir "$dir/world" || true
}
trap stop EXIT
trap 'exit 130' INT TERM

say "starting 3 regions: eu-west, us-east, ap-south"
bin/sandbox down -dir "$dir/world" >/dev/null 2>&1 || true
bin/sandbox up -dir "$dir/world" -bootstrap "${RINGOPS_DEMO_BOOTSTRAP:-3s}"
export KUBECONFIG="$dir/world/kubeconfig"

rm -rf "$work"; mkdir -p "$work"
cp -r clusters-example/. "$work/"
cluster="$work/clusters/orders"

say "ringops validate"
bin/ringops validate "$work"

say "ringops render (what would be applied in eu-west, summarised)"
bin/ringops render "$cluster" --context eu-west | grep -E '^(kind|  name):' | paste - - | column -t

say "ringops apply --wait: bootstrap, seed region first"
bin/ringops apply "$cluster" --wait --timeout 20m

say "ringops status"
bin/ringops status "$cluster"

say "a change: us-east rack r2 grows from 1 to 2 nodes"
cp "$cluster/cluster.yaml" "$dir/previous.yaml"
sed -i '/- name: dc2$/,/- name: dc3$/ s/^\(\s*\)- name: r2$/\1- name: r2\n\1  nodes: 2/' "$cluster/cluster.yaml"
diff -u "$dir/previous.yaml" "$cluster/cluster.yaml" | tail -n +3 || true
bin/ringops validate "$cluster"
bin/ringops apply "$cluster" --previous "$dir/previous.yaml" --wait --timeout 10m
bin/ringops status "$cluster"

say "done: the ring is healthy in every region"
