#!/usr/bin/env bash
# Builds the benchmarks jar, runs the DKS/TAT solver benchmarks (SolverBenchmark) and prints a
# summary table (activation, DKS µs, TAT µs, under the 2 ms goal or not).
#
#   benchmarks/run-solver-benchmarks.sh                     # full run (~2-3 min on 2 cores)
#   benchmarks/run-solver-benchmarks.sh -p activation=tanh  # extra arguments go to JMH
#   SKIP_BUILD=1 benchmarks/run-solver-benchmarks.sh        # reuse benchmarks/target/benchmarks.jar
#
# JMH's JSON result: benchmarks/target/solver-bench.json. The other suites run from the same jar:
#   java -jar benchmarks/target/benchmarks.jar 'ActivationTableBenchmark|LocalMapsBenchmark'
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
result=benchmarks/target/solver-bench.json

bench_build

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews the numbers)"
rm -f "$result"
# -foe false: a solve that throws fails its own benchmark only; the table shows it as '-'.
java -jar "$jar" '^dev\.dks\.benchmarks\.SolverBenchmark\.' \
  -foe false -rf json -rff "$result" "$@"

echo
java -cp "$jar" dev.dks.benchmarks.SolverBenchmarkReport "$result"
