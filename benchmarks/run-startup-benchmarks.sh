#!/usr/bin/env bash
# Whole-process time of `dks solve` (issue 14): the plain `java -jar cli/target/dks.jar` next to the
# ./dks launcher's lean start (C1 only, serial GC, class-data-sharing archive), interleaved run by
# run so that load slows both alike. Prints mean CPU (user + sys, all threads) and wall seconds.
#
#   benchmarks/run-startup-benchmarks.sh            # 10 rounds of each
#   ROUNDS=20 benchmarks/run-startup-benchmarks.sh
#
# Uses its own archive cache (a temporary DKS_CACHE_DIR); the first ./dks run writes the archive
# and is not counted. Needs cli/target/dks.jar (./dks builds it).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rounds="${ROUNDS:-10}"
args=(solve --method TAT --activation tanh --depth 10 --json)
export DKS_CACHE_DIR="$(mktemp -d)"
trap 'rm -rf "$DKS_CACHE_DIR"' EXIT

./dks "${args[@]}" > /dev/null # builds the jar if needed, writes the archive
bench_machine
times="$(mktemp)"
for ((i = 0; i < rounds; i++)); do
  /usr/bin/time -a -o "$times" -f 'plain %U %S %e' \
    java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -jar cli/target/dks.jar "${args[@]}" > /dev/null
  /usr/bin/time -a -o "$times" -f 'lean %U %S %e' ./dks "${args[@]}" > /dev/null
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| dks ${args[*]} | CPU s (user+sys) | wall s | runs |"
echo "| --- | ---: | ---: | ---: |"
awk '{c[$1] += $2 + $3; w[$1] += $4; n[$1]++}
  END {
    printf "| java -jar cli/target/dks.jar | %.3f | %.3f | %d |\n", c["plain"]/n["plain"], w["plain"]/n["plain"], n["plain"]
    printf "| ./dks (lean start) | %.3f | %.3f | %d |\n", c["lean"]/n["lean"], w["lean"]/n["lean"], n["lean"]
    printf "| plain / lean | %.2fx | %.2fx | |\n", c["plain"]/c["lean"], w["plain"]/w["lean"]
  }' "$times"
rm -f "$times"
