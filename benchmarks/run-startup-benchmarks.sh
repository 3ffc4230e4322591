#!/usr/bin/env bash
# Whole-process time of `dks solve` (issue 14), interleaved run by run so that load slows all
# alike; prints the median CPU (user + sys, all threads and child processes) and median wall:
#   - a bare JVM with the lean flags (hello world: the floor no Java command goes below),
#   - the plain `java -jar cli/target/dks.jar`,
#   - java with ./dks's lean flags and archive (the JVM part of ./dks),
#   - ./dks (the launcher script and the JVM it starts),
#   - the launcher alone (./dks with a `java` on PATH that exits at once).
#
#   benchmarks/run-startup-benchmarks.sh            # 21 rounds of each
#   ROUNDS=41 benchmarks/run-startup-benchmarks.sh
#
# Uses its own archive cache (a temporary DKS_CACHE_DIR); the first ./dks run writes the archive
# and is not counted. Needs cli/target/dks.jar (./dks builds it). Under load, CPU time is the
# measure; wall time means something only when `uptime` shows a load below the core count.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
rounds="${ROUNDS:-21}"
args=(solve --method TAT --activation tanh --depth 10 --json)
tmp="$(mktemp -d)"
export DKS_CACHE_DIR="$tmp/cache"
trap 'rm -rf "$tmp"' EXIT

./dks "${args[@]}" > /dev/null # builds the jar if needed, writes the archive
archive="$(ls "$DKS_CACHE_DIR"/cds-solve*.jsa)"
lean=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
mkdir -p "$tmp/hello" "$tmp/nojava"
printf 'public class Hello { public static void main(String[] a) { System.out.println(1); } }\n' \
  > "$tmp/hello/Hello.java"
javac -d "$tmp/hello" "$tmp/hello/Hello.java"
printf '#!/bin/sh\nexit 0\n' > "$tmp/nojava/java"
chmod +x "$tmp/nojava/java"
touch "$DKS_CACHE_DIR/cds-solve${tmp//[^A-Za-z0-9.]/_}_nojava_java.jsa" # the launcher's archive test passes

bench_machine
times="$tmp/times"
for ((i = 0; i < rounds; i++)); do
  /usr/bin/time -a -o "$times" -f 'hello %U %S %e' java "${lean[@]}" -cp "$tmp/hello" Hello > /dev/null
  /usr/bin/time -a -o "$times" -f 'plain %U %S %e' \
    java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -jar cli/target/dks.jar "${args[@]}" > /dev/null
  /usr/bin/time -a -o "$times" -f 'jvm %U %S %e' java "${lean[@]}" -XX:SharedArchiveFile="$archive" \
    -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -jar cli/target/dks.jar "${args[@]}" > /dev/null
  /usr/bin/time -a -o "$times" -f 'dks %U %S %e' ./dks "${args[@]}" > /dev/null
  PATH="$tmp/nojava:$PATH" /usr/bin/time -a -o "$times" -f 'script %U %S %e' ./dks "${args[@]}" \
    > /dev/null
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
median() { # kind column
  awk -v k="$1" -v c="$2" '$1 == k {print (c == "cpu") ? $2 + $3 : $4}' "$times" | sort -g \
    | awk '{v[NR] = $1} END {printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
echo "| dks ${args[*]} | median CPU s (user+sys) | median wall s | runs |"
echo "| --- | ---: | ---: | ---: |"
row() { echo "| $2 | $(median "$1" cpu) | $(median "$1" wall) | $rounds |"; }
row hello "bare JVM, lean flags (hello world)"
row plain "java -jar cli/target/dks.jar"
row jvm "java, lean flags and archive (the JVM of ./dks)"
row dks "./dks (lean start)"
row script "./dks launcher alone (java exits at once)"
echo
echo "/usr/bin/time counts in 10 ms ticks: the launcher's own few ms show best as a mean over many runs."
