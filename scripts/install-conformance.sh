#!/usr/bin/env bash
# Install the official MCP conformance harness used by tests/conformance.
#
#   scripts/install-conformance.sh          # install only if needed
#   scripts/install-conformance.sh --force  # reinstall
#
# Two pinned versions of @modelcontextprotocol/conformance (0.1.16 and
# 0.2.0-alpha.12, as npm aliases conformance-0.1 / conformance-0.2) and the
# Node.js 22 they need (the `node` npm package ships the binary; the machine's
# Node.js 20 lacks fs.globSync) are pinned by tests/conformance/package.json +
# package-lock.json and installed with `npm ci` into
# tests/conformance/node_modules (git-ignored).
#
# Idempotent: npm runs only when node_modules is missing or older than
# package-lock.json / package.json (tracked by node_modules/.conformance-installed).
set -euo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[[ $script_dir == "${BASH_SOURCE[0]}" ]] && script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
dir="$repo_root/tests/conformance"
node_modules="$dir/node_modules"
stamp="$node_modules/.conformance-installed"
entries=(
  "$node_modules/conformance-0.1/dist/index.js"
  "$node_modules/conformance-0.2/dist/index.js"
  "$node_modules/.bin/node"
)

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

needs_install() {
  [[ $force == 1 ]] && return 0
  [[ -d $node_modules && -f $stamp ]] || return 0
  local entry
  for entry in "${entries[@]}"; do [[ -e $entry ]] || return 0; done
  [[ $dir/package-lock.json -nt $stamp ]] && return 0
  [[ $dir/package.json -nt $stamp ]] && return 0
  return 1
}

if ! needs_install; then
  echo "conformance harness: up to date ($node_modules)"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "error: npm not found on PATH; install Node.js (with npm) to run the conformance tests" >&2
  exit 1
fi

# Serialise concurrent installs (e.g. parallel test workers) when flock exists.
if command -v flock >/dev/null 2>&1; then
  lock_file="${TMPDIR:-/tmp}/mcp-async-conformance-install-$(printf '%s' "$dir" | cksum | cut -d' ' -f1).lock"
  exec 9>"$lock_file"
  flock 9
  if ! needs_install; then
    echo "conformance harness: up to date ($node_modules)"
    exit 0
  fi
fi

echo "conformance harness: npm ci in $dir"
rm -f "$stamp"
npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
for entry in "${entries[@]}"; do
  if [[ ! -e $entry ]]; then
    echo "error: npm ci finished but $entry is missing" >&2
    exit 1
  fi
done
touch "$stamp"
echo "conformance harness: installed $("$node_modules/.bin/node" --version) with" \
  "$("$node_modules/.bin/node" -p "require('$node_modules/conformance-0.1/package.json').version")" \
  "and $("$node_modules/.bin/node" -p "require('$node_modules/conformance-0.2/package.json').version")"
