#!/bin/bash
# Checks Prometheus text exposition with promtool (Debian package `prometheus`): format errors
# and lint problems (missing HELP, counters without _total, non-base units, ...) both fail.
#
#   promtool_check.sh FILE      a saved scrape ("-" reads stdin)
#   promtool_check.sh URL       scrapes it first (http://127.0.0.1:9090/metrics)
set -uo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 FILE|URL|-" >&2
  exit 2
fi
PROMTOOL=${PROMTOOL:-promtool}
if ! command -v "$PROMTOOL" >/dev/null; then
  echo "promtool_check: $PROMTOOL not found (apt-get install prometheus)" >&2
  exit 2
fi

input=$(mktemp)
trap 'rm -f "$input"' EXIT
case "$1" in
  http://* | https://*)
    if ! curl -fsS "$1" -o "$input"; then
      echo "promtool_check: cannot fetch $1" >&2
      exit 1
    fi
    ;;
  -) cat >"$input" ;;
  *)
    if [ ! -r "$1" ]; then
      echo "promtool_check: cannot read $1" >&2
      exit 2
    fi
    cp "$1" "$input"
    ;;
esac
if [ ! -s "$input" ]; then
  echo "promtool_check: empty exposition" >&2
  exit 1
fi

# promtool prints problems (errors and lint findings alike) and exits 1 for a parse error and
# 3 for lint findings; anything printed at all counts as a failure here.
out=$("$PROMTOOL" check metrics <"$input" 2>&1)
rc=$?
samples=$(grep -vc '^#' "$input")
if [ $rc -ne 0 ] || [ -n "$out" ]; then
  echo "promtool check metrics: FAILED (exit $rc)"
  echo "$out"
  exit 1
fi
echo "promtool check metrics: OK ($samples samples, no errors, no lint findings)"
