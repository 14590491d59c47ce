#!/usr/bin/env bash
# make demo: the GitOps loop of ringops, end to end, on one machine.
#
# Builds ringops, starts the local world of test/env (three regions, each a
# real kube-apiserver and controller manager, with simulated kubelets; every
# Cassandra pod a real Cassandra 5.0 JVM with the real Jolokia agent, on its
# own loopback IP) and a real Gitea on 127.0.0.1 holding the repository
# ringops/clusters, seeded with clusters-example (its heap cut to 256 MiB
# per node to fit the machine). Then the daemon, `ringops
# run`, follows main: it rolls the cluster out seed region first, one node at
# a time, every step gated on ring health read over Jolokia, and reports its
# progress as commit statuses on Gitea (one per cluster and region, and the
# summary "ringops"), shown here as they change. `ringops status` shows the
# ring. Then a change (eu-west rack r1 grows from 1 to 2 nodes) is pushed;
# Gitea's webhook makes the daemon poll at once, and it rolls the change out.
# Everything it started is stopped at the end or on Ctrl-C;
# RINGOPS_DEMO_KEEP=1 keeps it all running until Ctrl-C, to look around.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=local

dir="${RINGOPS_DEMO_DIR:-${TMPDIR:-/tmp}/ringops-demo}"
world="$dir/world"
forge_dir="$dir/forge"
log="$dir/ringops.log"
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
started=$SECONDS

say "building ringops, the local world (bin/sandbox) and the forge (bin/forge)"
make -s build
go build -o bin/sandbox ./test/env/cmd/sandbox
go build -o bin/forge ./test/gitea/cmd/forge
RINGOPS_CONTROLPLANE_DIR="$(test/env/tools/controlplane/build.sh)"
RINGOPS_GITEA_DIR="$(test/tools/gitea/build.sh)"
RINGOPS_CASSANDRA_DIR="$(test/tools/cassandra/build.sh)"
export RINGOPS_CONTROLPLANE_DIR RINGOPS_GITEA_DIR RINGOPS_CASSANDRA_DIR

daemon=""
stop() {
  local rc=$?
  say "stopping the daemon, Gitea and the local world"
  if [ -n "$daemon" ]; then
    kill -TERM "$daemon" 2>/dev/null || true
    wait "$daemon" 2>/dev/null || true
    rm -f "$dir/ringops.pid"
  fi
  if [ "$rc" -ne 0 ] && [ -s "$log" ]; then
    echo "the demo failed (exit $rc); the daemon's last lines:"
    tail -n 30 "$log" | sed 's/^/  /'
  fi
  bin/forge down -dir "$forge_dir" || true
  bin/sandbox down -dir "$world" || true
  [ -s "$log" ] && echo "the daemon's log stays in $log"
  return 0
}
trap stop EXIT
trap 'exit 130' INT TERM

# Leftovers of a run that could not clean up (killed with SIGKILL).
if [ -f "$dir/ringops.pid" ]; then
  old=$(cat "$dir/ringops.pid")
  cmdline=$(tr "\0" " " 2>/dev/null <"/proc/$old/cmdline" || true)
  if [[ "$cmdline" == *"ringops run "*"--kubeconfig $world/kubeconfig"* ]]; then
    kill -TERM "$old" 2>/dev/null || true
  fi
  rm -f "$dir/ringops.pid"
fi
bin/forge down -dir "$forge_dir" >/dev/null 2>&1 || true
bin/sandbox down -dir "$world" >/dev/null 2>&1 || true
mkdir -p "$dir"

say "starting 3 regions: eu-west, us-east, ap-south (real Cassandra 5.0 nodes)"
bin/sandbox up -dir "$world" -real
export KUBECONFIG="$world/kubeconfig"

say "starting the forge: Gitea on 127.0.0.1, repository ringops/clusters"
bin/forge up -dir "$forge_dir" | grep -v '^#'
# shellcheck disable=SC1091 # written by forge up: GITEA_URL, REPO_URL, FORGE_*, TOKEN_FILE, WORK_DIR, ...
. "$forge_dir/env"
cluster="$WORK_DIR/clusters/orders"

say "git push: clusters-example becomes main"
# The example as it is, but for the heap: 7 JVMs of 1 GiB do not fit next
# to everything else on a small machine.
example="$dir/clusters-example"
rm -rf "$example" && cp -R clusters-example "$example"
sed -i 's/jvm-options: \[-Xms1G, -Xmx1G\]/jvm-options: [-Xms256m, -Xmx256m]/' "$example/clusters/orders/cluster.yaml"
grep -q 'Xmx256m' "$example/clusters/orders/cluster.yaml" || { echo "could not set the demo's heap in $example"; exit 1; }
seed=$(bin/forge seed -dir "$forge_dir" -from "$example")
echo "commit $seed  $GITEA_URL/$FORGE_REPOSITORY/commit/$seed"
bin/ringops validate "$WORK_DIR"
echo "what the daemon will apply in eu-west:"
bin/ringops render "$cluster" --context eu-west | grep -E '^(kind|  name):' | paste - - | column -t | sed 's/^/  /'

say "ringops run: the daemon follows main (polls every 5 minutes; Gitea's webhook makes it poll at once)"
port=$(bin/forge port)
api="http://127.0.0.1:$port"
RINGOPS_GIT_USERNAME="$GIT_USERNAME" RINGOPS_GIT_TOKEN_FILE="$TOKEN_FILE" \
RINGOPS_FORGE_TOKEN_FILE="$TOKEN_FILE" RINGOPS_WEBHOOK_SECRET_FILE="$WEBHOOK_SECRET_FILE" \
  bin/ringops run --repo "$REPO_URL" --branch main --path clusters --interval 5m \
    --http-address "127.0.0.1:$port" --external-url "$api" --log-format text \
    --kubeconfig "$KUBECONFIG" --leader-elect=false --status-interval 2s \
    --forge gitea --forge-api-url "$FORGE_API_URL" --forge-repository "$FORGE_REPOSITORY" \
    >"$log" 2>&1 &
daemon=$!
echo "$daemon" >"$dir/ringops.pid"
for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "$api/readyz" 2>/dev/null && break
  kill -0 "$daemon" 2>/dev/null || { echo "ringops run exited"; exit 1; }
  sleep 0.2
done
curl -fsS -o /dev/null "$api/readyz"
echo "pid $daemon, http $api, log $log"
bin/forge hook -dir "$forge_dir" -url "$api/hooks/gitea"

# daemon_log FROM: what the daemon did after line FROM of its log (revisions,
# steps, outcomes, warnings; not every wait), time of day first.
daemon_log() {
  tail -n "+$(($1 + 1))" "$log" |
    grep -E 'msg="(new revision|rolling out|Converged)|result=|level=(WARN|ERROR)' |
    sed -E -e 's/^time=[0-9-]+T([0-9:]{8})[^ ]* level=(INFO )?/  \1 /' -e 's/msg="([^"]*)"/\1/' \
      -e 's/ cluster_dir=[^ ]*//' -e 's/(revision=(main@sha1:)?[0-9a-f]{7})[0-9a-f]{33}/\1/' || true
}
# seen SHA: seconds from the push (at $pushed_at) to the daemon's log line
# "new revision" of SHA.
seen() {
  local at
  at=$(grep -m1 "msg=\"new revision\".*$1" "$log" | sed -E 's/^time=([^ ]+) .*/\1/')
  [ -n "$at" ] && echo $(($(date -u -d "$at" +%s) - pushed_at))
}
# Width of the status tables: the terminal's, else 160 columns.
width=$( (stty size </dev/tty) 2>/dev/null | cut -d' ' -f2) || true
[ "${width:-0}" -ge 60 ] 2>/dev/null || width=160
mark=0

say "the daemon rolls $(echo "$seed" | cut -c1-7) out: its commit statuses on Gitea, each time they change"
bin/forge statuses -dir "$forge_dir" -sha "$seed" -watch -width "$width" -wait-summary success -timeout 20m
echo "what the daemon did:"
daemon_log "$mark"
mark=$(wc -l <"$log")

say "ringops status: the ring as every node sees it"
bin/ringops status "$cluster"
say "nodetool status, as Cassandra itself says it (on orders-dc1-r1-0)"
bin/sandbox nodetool -dir "$world" orders-dc1-r1-0 status

# (Not us-east: its two racks hold two nodes, and Cassandra's token
# allocator refuses a third node in a datacenter of two racks.)
say "a change: eu-west rack r1 grows from 1 to 2 nodes; git push"
sed -i '/- name: dc1\b/,/- name: dc2$/ s/^\(\s*\)- name: r1$/\1- name: r1\n\1  nodes: 2/' "$cluster/cluster.yaml"
git -C "$WORK_DIR" diff --quiet && { echo "the change did not apply to $cluster/cluster.yaml"; exit 1; }
git -C "$WORK_DIR" --no-pager diff --color=never | tail -n +5
bin/ringops validate "$cluster"
pushed=$SECONDS
pushed_at=$(date -u +%s)
change=$(bin/forge push -dir "$forge_dir" -message "orders: eu-west rack r1 grows to 2 nodes")
echo "commit $change  $GITEA_URL/$FORGE_REPOSITORY/commit/$change"

say "the webhook makes the daemon poll at once; it rolls $(echo "$change" | cut -c1-7) out"
bin/forge statuses -dir "$forge_dir" -sha "$change" -watch -width "$width" -wait-summary success -timeout 10m
echo "git push to success: $((SECONDS - pushed)) s; the daemon saw the commit $(seen "$change" || echo '?') s after the push (its poll interval is 5 minutes: the webhook told it)"
echo "what the daemon did:"
daemon_log "$mark"

say "ringops status"
bin/ringops status "$cluster"
say "nodetool status (on orders-dc1-r1-1, the new node)"
bin/sandbox nodetool -dir "$world" orders-dc1-r1-1 status

say "where to look"
cat <<EOF
  the commit and its statuses: $GITEA_URL/$FORGE_REPOSITORY/commit/$change
  the daemon's view (JSON):    curl -s $api/api/v1/clusters
  its metrics (Prometheus):    curl -s $api/metrics | grep ^ringops_
  its log:                     $log
  a node's log:                $world/world/pods/<region>/cassandra/<pod>-*/cassandra.log
EOF
echo
echo "\$ curl -s $api/api/v1/clusters"
if command -v jq >/dev/null; then curl -fsS "$api/api/v1/clusters" | jq .; else curl -fsS "$api/api/v1/clusters"; echo; fi
echo "\$ curl -s $api/metrics | grep ^ringops_ | grep -v _bucket"
curl -fsS "$api/metrics" | grep '^ringops_' | grep -v '_bucket{' || true

say "done in $((SECONDS - started)) s: two commits rolled out by the daemon, the ring is healthy in every region"
if [ "${RINGOPS_DEMO_KEEP:-}" = 1 ]; then
  say "everything keeps running (RINGOPS_DEMO_KEEP=1); Ctrl-C stops it"
  wait "$daemon" || true
fi
