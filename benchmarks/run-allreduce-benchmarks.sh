#!/usr/bin/env bash
# Builds the benchmarks jar and runs AllReduceHarness (issue 13): N JVMs on loopback average
# float32 vectors of 1K..16M elements with one CollectiveReduceV2 each, as a distributed training
# step does with its packed gradients; prints ms per all-reduce, algorithm and ring bus bandwidth,
# and the bytes per step for the reference network and ResNet-50.
#
#   benchmarks/run-allreduce-benchmarks.sh          # 2 JVMs, median of 10
#   benchmarks/run-allreduce-benchmarks.sh 3 20     # 3 JVMs, median of 20
#   SKIP_BUILD=1 benchmarks/run-allreduce-benchmarks.sh
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx2g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.AllReduceHarness "$@"
