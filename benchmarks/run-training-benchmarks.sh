#!/usr/bin/env bash
# Builds the benchmarks jar and runs TrainingThroughputHarness (issue 5, performance): training
# throughput of the reference network (50-layer plain CNN, TAT-shaped leaky ReLU, width 64,
# 28x28x1, 10 classes, batch 128) through TrainingGraph.step exactly as the Trainer calls it, next
# to the same step through a raw session runner with tensors made once, and the time TF spends in
# kernels for that step from FULL_TRACE step statistics (span from the first node start to the
# last node end, and the per-device op-time sum). Prints the Java overhead over the TF span (goal
# < 5%), the tensor creation/copy share, the achieved GFLOP/s of the step and the GFLOP/s of a
# 2048^3 float32 MatMul measured in the same process.
#
# The full reference does about 1 TFLOP per step; on a 2-core machine a step takes seconds, so
# the default is 2 warm-up + 10 measured steps per mode (3 modes, interleaved): about 2 minutes on
# the 2-core AVX-512 dev machine, build not included. If that is too long, QUICK=1 runs the same
# network at batch 16 (about 20 s); the harness prints what it ran.
#
#   benchmarks/run-training-benchmarks.sh                            # reference network
#   QUICK=1 benchmarks/run-training-benchmarks.sh                    # batch 16, 6 steps
#   benchmarks/run-training-benchmarks.sh --depth 20 --batch 32 --steps 20 --threads 1
#   SKIP_BUILD=1 benchmarks/run-training-benchmarks.sh               # reuse benchmarks.jar
#
# Extra arguments go to the harness (--help lists them: --depth --width --batch --steps --warmup
# --threads --classes --input --optimizer --lr --matmul --matmul-reps --json) and override the
# QUICK ones. JSON result: benchmarks/target/training-throughput.json, and the line starting with
# "JSON " on stdout. JAVA_OPTS overrides the JVM options (default -Xmx4g).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine

preset=()
if [[ "${QUICK:-0}" == 1 ]]; then
  preset=(--batch 16 --steps 6 --warmup 1)
  echo "QUICK=1: reference network at batch 16, 1 warm-up + 6 measured steps per mode"
fi
# TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's INFO/WARNING lines (and the oneDNN banner) on stderr.
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx4g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.TrainingThroughputHarness "${preset[@]}" "$@"
