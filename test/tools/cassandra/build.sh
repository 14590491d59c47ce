#!/usr/bin/env bash
# Resolves Apache Cassandra (cassandra-all and its runtime dependencies) and
# the Jolokia JVM agent from Maven Central with the pom.xml next to this
# script, into a cache outside the repository, keyed by version:
#   ${RINGOPS_CACHE:-$HOME/.cache/ringops}/cassandra/<version>/
#     lib/                  the server's classpath (cassandra-all + deps)
#     jolokia/jolokia-agent.jar   the agent, as an agent image holds it
#     conf/                 this directory's conf/ (the image's /etc/cassandra)
#     VERSION               "cassandra <v>" and "jolokia <v>"
# A cached copy is reused (conf/ is refreshed from the repository when it
# changed). The first run downloads about 70 MB (15-60 s). Prints the
# directory. Needs Maven (mvn) and a Java 17 runtime.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
version="${CASSANDRA_VERSION:-$(sed -nE 's#.*<cassandra.version>(.*)</cassandra.version>.*#\1#p' "$here/pom.xml")}"
jolokia="$(sed -nE 's#.*<jolokia.version>(.*)</jolokia.version>.*#\1#p' "$here/pom.xml")"
out="${RINGOPS_CACHE:-$HOME/.cache/ringops}/cassandra/$version"

refresh_conf() {
  if ! diff -qr "$here/conf" "$out/conf" >/dev/null 2>&1; then
    rm -rf "$out/conf.tmp.$$"
    cp -R "$here/conf" "$out/conf.tmp.$$"
    rm -rf "$out/conf"
    mv "$out/conf.tmp.$$" "$out/conf"
  fi
}

if [ -f "$out/lib/.complete" ] && [ -f "$out/jolokia/jolokia-agent.jar" ]; then
  refresh_conf
  echo "$out"; exit 0
fi
command -v mvn >/dev/null || { echo "build.sh: mvn not found (apt-get install maven)" >&2; exit 1; }
command -v java >/dev/null || { echo "build.sh: java not found (apt-get install openjdk-17-jre-headless)" >&2; exit 1; }
echo "resolving cassandra-all $version and jolokia-agent-jvm $jolokia from Maven Central into $out" >&2
mkdir -p "$(dirname "$out")"
tmp=$(mktemp -d "$out.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mvn -B -q -f "$here/pom.xml" -Dcassandra.version="$version" \
  dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/lib" >&2
mkdir -p "$tmp/jolokia"
mv "$tmp/lib/jolokia-agent-jvm-$jolokia-javaagent.jar" "$tmp/jolokia/jolokia-agent.jar"
[ -f "$tmp/lib/cassandra-all-$version.jar" ] || { echo "build.sh: cassandra-all-$version.jar missing" >&2; exit 1; }
printf 'cassandra %s\njolokia %s\n' "$version" "$jolokia" > "$tmp/VERSION"
touch "$tmp/lib/.complete"
cp -R "$here/conf" "$tmp/conf"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
echo "$out"
