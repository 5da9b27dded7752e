#!/usr/bin/env bash
# Install the third-party skills server used by tests/interop/test_skills_interop.py.
#
#   scripts/install-skills-server.sh          # install only if needed
#   scripts/install-skills-server.sh --force  # reinstall
#
# agentskills-mcp-server (PyPI, by another project) serves the MCP skills extension
# (SEP-2640) on the official `mcp` Python SDK. It needs Python >= 3.12, newer than the
# project's own venv may be, so it gets a venv of its own in
# tests/interop/.skills-server-venv (git-ignored), made with the first Python 3.13 or
# 3.12 on PATH or among pyenv's installs. Without one the script says so and exits 0: the interop test
# then skips with that reason.
set -euo pipefail

script_dir="${BASH_SOURCE[0]%/*}"
[[ $script_dir == "${BASH_SOURCE[0]}" ]] && script_dir=.
repo_root="$(cd "$script_dir/.." && pwd)"
venv="$repo_root/tests/interop/.skills-server-venv"
requirement="agentskills-mcp-server[fs]==0.7.0"
pins=("mcp==2.3.0" "agentskills-core==0.7.0" "agentskills-fs==0.7.0")
stamp="$venv/.installed"

force=0
case "${1:-}" in
  --force) force=1 ;;
  "") ;;
  *) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

if [[ $force == 0 && -f $stamp && "$(cat "$stamp")" == "$requirement ${pins[*]}" ]]; then
  echo "skills server: up to date ($venv)"
  exit 0
fi

python=""
candidates=(python3.13 python3.12)
# pyenv's shims answer only for the selected version: look at its installs too.
# pyenv may be installed without being on PATH (a non-interactive CI shell): look in its
# usual root as well.
pyenv_roots=("${PYENV_ROOT:-$HOME/.pyenv}")
command -v pyenv >/dev/null 2>&1 && pyenv_roots=("$(pyenv root)" "${pyenv_roots[@]}")
for root in "${pyenv_roots[@]}"; do
  for dir in "$root"/versions/3.13* "$root"/versions/3.12*; do
    [[ -x $dir/bin/python3 ]] && candidates+=("$dir/bin/python3")
  done
done
for candidate in "${candidates[@]}"; do
  if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then
    python="$candidate"
    break
  fi
done
if [[ -z $python ]]; then
  echo "skills server: no Python >= 3.12 on PATH; the skills interop test will be skipped"
  exit 0
fi

if command -v flock >/dev/null 2>&1; then
  exec 9>"${TMPDIR:-/tmp}/mcp-async-skills-server-install.lock"
  flock 9
fi

echo "skills server: installing $requirement into $venv with $python"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check "$requirement" "${pins[@]}"
"$venv/bin/python" -c 'import agentskills_mcp_server'
echo "$requirement ${pins[*]}" > "$stamp"
echo "skills server: installed"
