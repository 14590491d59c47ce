#!/usr/bin/env bash
# Installs, from Debian, what the tests and the demo need and this machine
# lacks: etcd for the real control planes, the real Jolokia agent (core +
# json-simple) and a JDK for the conformance test, Maven for the real
# Cassandra nodes (test/tools/cassandra), openssh-server and git for
# the Git source's SSH path, gcc for Gitea's sqlite, iproute2 for the
# network-namespace test of the pod proxy, curl for the demo, chromium for
# the status page's browser test (test/browser). Needs root (or
# sudo) only when something is missing. Safe to run again: it does nothing
# when all is there.
set -euo pipefail
need=()
[ -x /usr/bin/etcd ] || need+=(etcd-server)
[ -f /usr/share/java/jolokia-core.jar ] || need+=(libjolokia-core-java)
[ -f /usr/share/java/json-simple.jar ] || need+=(libjson-simple-java)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v git >/dev/null || need+=(git)
command -v curl >/dev/null || need+=(curl) # make demo asks the daemon over HTTP
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v mvn >/dev/null || need+=(maven) # resolves Cassandra 5.0 from Maven Central (test/tools/cassandra)
command -v gcc >/dev/null || need+=(gcc)
command -v ip >/dev/null || need+=(iproute2)
command -v chromium >/dev/null || need+=(chromium) # headless, drives the status page (test/browser)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# sshd refuses to start without its privilege-separation directory.
if [ ! -d /run/sshd ] && [ "$(id -u)" = 0 ]; then mkdir -p /run/sshd; fi
