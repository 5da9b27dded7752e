#!/usr/bin/env bash
# Run checks beside a main command (used by `make test`):
#
#   scripts/beside.sh NAME 'COMMAND' [NAME 'COMMAND']... -- MAIN [ARG]...
#
# Each NAME'd COMMAND (a shell command line) starts at once in the background, its output
# held in a log. MAIN runs in the foreground, its output streaming as usual. When MAIN
# ends, every check is waited for and its output is shown under a header, in the order
# given, so nothing interleaves with MAIN's output. The exit status is MAIN's if it failed,
# else 1 if any check failed, else 0; the failed checks are named at the end.
set -uo pipefail

names=()
commands=()
while (($#)) && [[ $1 != -- ]]; do
    if (($# < 2)); then
        echo "usage: $0 NAME 'COMMAND' [NAME 'COMMAND']... -- MAIN [ARG]..." >&2
        exit 2
    fi
    names+=("$1")
    commands+=("$2")
    shift 2
done
if (($# < 2)); then
    echo "usage: $0 NAME 'COMMAND' [NAME 'COMMAND']... -- MAIN [ARG]..." >&2
    exit 2
fi
shift  # the --

logs=$(mktemp -d "${TMPDIR:-/tmp}/beside.XXXXXX")
pids=()
cleanup() {
    # Interrupted (or MAIN could not start): stop the checks still running.
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
    rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for i in "${!names[@]}"; do
    bash -c "${commands[$i]}" >"$logs/$i.log" 2>&1 </dev/null &
    pids+=($!)
done
echo "beside.sh: ${names[*]} running beside: $*"

"$@"
main_status=$?

failed=()
for i in "${!names[@]}"; do
    wait "${pids[$i]}"
    status=$?
    if ((status == 0)); then
        echo "----- ${names[$i]}: ok -----"
    else
        echo "----- ${names[$i]}: FAILED (exit $status) -----"
        failed+=("${names[$i]}")
    fi
    cat "$logs/$i.log"
done
pids=()

if ((main_status != 0)); then
    echo "beside.sh: $1 failed (exit $main_status)${failed:+; failed checks: ${failed[*]}}" >&2
    exit "$main_status"
fi
if ((${#failed[@]})); then
    echo "beside.sh: failed checks: ${failed[*]}" >&2
    exit 1
fi
