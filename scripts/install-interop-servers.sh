#!/usr/bin/env bash
# Install the third-party MCP servers used by tests/interop.
#
#   scripts/install-interop-servers.sh          # install only if needed
#   scripts/install-interop-servers.sh --force  # reinstall
#
# The official Python SDK server needs nothing beyond the dev extras
# (mcp==2.3.0, uvicorn).  @modelcontextprotocol/server-everything comes from
# npm, pinned by tests/interop/package.json + package-lock.json, and is
# installed with `npm ci` into tests/interop/node_modules (git-ignored).
#
# Idempotent: npm runs only when node_modules is missing or older than
# package-lock.json / package.json (tracked by node_modules/.interop-installed).
set -euo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[[ $script_dir == "${BASH_SOURCE[0]}" ]] && script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
interop_dir="$repo_root/tests/interop"
node_modules="$interop_dir/node_modules"
stamp="$node_modules/.interop-installed"
entry="$node_modules/@modelcontextprotocol/server-everything/dist/index.js"

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

needs_install() {
  [[ $force == 1 ]] && return 0
  [[ -d $node_modules && -f $stamp && -f $entry ]] || return 0
  [[ $interop_dir/package-lock.json -nt $stamp ]] && return 0
  [[ $interop_dir/package.json -nt $stamp ]] && return 0
  return 1
}

if ! needs_install; then
  echo "interop servers: up to date ($node_modules)"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found on PATH; install Node.js >= 20 (with npm) to run the interop tests" >&2
  exit 1
fi
if ! command -v node >/dev/null 2>&1; then
  echo "error: node not found on PATH; install Node.js >= 20 to run the interop tests" >&2
  exit 1
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if (( node_major < 20 )); then
  echo "error: Node.js >= 20 is required, found $(node --version)" >&2
  exit 1
fi

# Serialise concurrent installs (e.g. parallel test workers) when flock exists.
if command -v flock >/dev/null 2>&1; then
  lock_file="${TMPDIR:-/tmp}/mcp-async-interop-install-$(printf '%s' "$interop_dir" | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock_file"
  flock 9
  if ! needs_install; then
    echo "interop servers: up to date ($node_modules)"
    exit 0
  fi
fi

echo "interop servers: npm ci in $interop_dir"
rm -f "$stamp"
npm ci --prefix "$interop_dir" --no-audit --no-fund
if [[ ! -f $entry ]]; then
  echo "error: npm ci finished but $entry is missing" >&2
  exit 1
fi
touch "$stamp"
echo "interop servers: installed @modelcontextprotocol/server-everything $(node -p "require('$node_modules/@modelcontextprotocol/server-everything/package.json').version")"
