#!/usr/bin/env bash
# Makes sure a Docker engine answers on this machine: installs Debian's docker.io and the tools the tests use
# when missing, starts dockerd when nothing answers, and waits for it. Needs root on Debian; says so otherwise.
# --engine-only (npm run try): only the engine and the static busybox the demo is built from, not the test tools.
set -euo pipefail

engine_only=0
[ "${1:-}" = --engine-only ] && engine_only=1

need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
[ -x /bin/busybox ] || need_pkgs+=(busybox-static)
if [ "$engine_only" = 0 ]; then
command -v script >/dev/null 2>&1 || need_pkgs+=(bsdutils)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
command -v gcc >/dev/null 2>&1 || need_pkgs+=(gcc libc6-dev)
command -v strace >/dev/null 2>&1 || need_pkgs+=(strace)
# host tools run on containers' processes by `tool` and in their namespaces by `nsenter` (tests)
command -v lsof >/dev/null 2>&1 || need_pkgs+=(lsof)
command -v nsenter >/dev/null 2>&1 || need_pkgs+=(util-linux)
command -v ip >/dev/null 2>&1 || need_pkgs+=(iproute2)
command -v hyperfine >/dev/null 2>&1 || need_pkgs+=(hyperfine)
[ -x /usr/bin/time ] || need_pkgs+=(time)
# Compose itself, so the Compose-name tests make their projects the way users do (Debian's v1 serves; v2 also does)
{ command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1; } || need_pkgs+=(docker-compose)
# a real program that fails on a bad config, for the crash demo and tests
command -v nginx >/dev/null 2>&1 || need_pkgs+=(nginx-light)
# a real browser for porthole ui's page (driven headless over the DevTools protocol)
command -v chromium >/dev/null 2>&1 || need_pkgs+=(chromium)
fi

if [ ${#need_pkgs[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "engine-up: missing ${need_pkgs[*]}; install them (Debian: apt-get install -y ${need_pkgs[*]}) or run the tests as root on Debian." >&2
    exit 1
  fi
  echo "engine-up: installing ${need_pkgs[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  # Debian starts nginx on install where it can; the tests only need its binary.
  (command -v nginx >/dev/null && nginx -s stop) >/dev/null 2>&1 || true
fi

if timeout 5 docker info >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "engine-up: no Docker engine answers and this user cannot start one; start dockerd (sudo dockerd &) or set DOCKER_HOST." >&2
  exit 1
fi
echo "engine-up: no Docker engine answers; starting dockerd (log: /tmp/porthole-dockerd.log)" >&2
# setsid: the engine outlives this script and does not get the test run's signals.
setsid dockerd >/tmp/porthole-dockerd.log 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if timeout 5 docker info >/dev/null 2>&1; then exit 0; fi
  sleep 1
done
echo "engine-up: dockerd did not answer within 60 s; see /tmp/porthole-dockerd.log" >&2
tail -20 /tmp/porthole-dockerd.log >&2 || true
exit 1
