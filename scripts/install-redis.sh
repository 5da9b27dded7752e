#!/usr/bin/env bash
# Install redis-server for tests/stores/test_redis_stores.py (Debian's package).
#
#   scripts/install-redis.sh   # install only if redis-server is missing
#
# The tests start their own redis-server on 127.0.0.1 (no persistence) and stop it; the
# package's system service is not needed. Without root or apt-get this only says what
# is missing: the tests then skip, except under CI=true, where they fail.
set -euo pipefail

if command -v redis-server >/dev/null 2>&1 || [[ -x /usr/bin/redis-server ]]; then
  echo "redis-server: present ($(command -v redis-server || echo /usr/bin/redis-server))"
  exit 0
fi

if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "redis-server: installing Debian's package"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q redis-server >/dev/null 2>&1 || {
    apt-get update -q >/dev/null
    apt-get install -y -q redis-server >/dev/null
  }
  # The tests run their own server; the packaged service is not wanted.
  if command -v service >/dev/null 2>&1; then
    service redis-server stop >/dev/null 2>&1 || true
  fi
  exit 0
fi

message="redis-server: missing; install it (Debian: apt-get install -y redis-server)"
if [[ ${CI:-} == true ]]; then
  echo "$message" >&2
  exit 1
fi
echo "$message; the Redis tests will skip"
