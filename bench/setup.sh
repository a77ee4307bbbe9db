#!/bin/bash
# Installs what the benchmark harness needs on Debian bookworm (idempotent: no apt-get update
# when everything is present): the project's own build dependencies (scripts/setup.sh), the
# nfs-ganesha peer with the FSALs ../shared/ganesha/start.sh uses, iperf3 for the loopback
# ceiling, fio for the kernel client's random I/O (carried into the VM) and matplotlib
# (Debian's python3) for the chart.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# The project's own dependencies and the benchmark's, through one installer.
"$ROOT/scripts/setup.sh" nfs-ganesha nfs-ganesha-vfs nfs-ganesha-mem iperf3 fio python3 python3-matplotlib
