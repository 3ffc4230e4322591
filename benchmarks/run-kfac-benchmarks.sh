#!/usr/bin/env bash
# Builds the benchmarks jar and runs KfacStepTimeHarness (issue 5, K-FAC performance: with
# inverses every 50 steps a K-FAC step should cost under 1.5x an SGD step). Network: the
# reference plain CNN (50 layers, TAT-shaped leaky ReLU, 28x28x1, 10 classes, batch 128, no
# down-sampling), at width 32 by default here instead of the reference 64: on the 2-core dev
# machine a width-64 SGD step alone takes ~3 s and K-FAC's statistics several times that, so the
# full reference would need ~15 minutes; pass --width 64 for it. Variants, each in its own
# TrainingGraph, in one process, interleaved: SGD (Nesterov), K-FAC TAT recipe (statistics every
# step, inverses every 50, KFC-expand convs), the recipe with K-FAC-reduce convs, the recipe with
# statistics every 10 steps, and no amortization (statistics and inverses every step).
#
# The harness times each step kind (inverse step, statistics step, plain step) per variant and
# combines their medians with the schedule's frequencies into the mean step time over a 50-step
# window (see the class comment). About 5 minutes at width 32 on the dev machine.
#
#   benchmarks/run-kfac-benchmarks.sh                         # width 32, 1 warm-up + 5 rounds
#   QUICK=1 benchmarks/run-kfac-benchmarks.sh                 # width 16, batch 32, 3 rounds
#   benchmarks/run-kfac-benchmarks.sh --width 64 --steps 3    # the reference width
#   benchmarks/run-kfac-benchmarks.sh --stats-examples 32     # statistics on 32 of 128 examples
#   SKIP_BUILD=1 benchmarks/run-kfac-benchmarks.sh            # reuse benchmarks.jar
#
# Extra arguments go to the harness (--help lists them: --depth --width --batch --steps --warmup
# --threads --classes --input --stats-examples --json) and override the defaults here. JSON
# result: benchmarks/target/kfac-step-time.json, and the line starting with "JSON " on stdout.
# JAVA_OPTS overrides the JVM options (default -Xmx8g).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine

preset=(--width 32)
if [[ "${QUICK:-0}" == 1 ]]; then
  preset=(--width 16 --batch 32 --steps 3)
  echo "QUICK=1: width 16, batch 32, 1 warm-up + 3 rounds"
else
  echo "width 32 (reference: 64; pass --width 64 for it, ~15 min on 2 cores)"
fi
# TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's INFO/WARNING lines (and the oneDNN banner) on stderr.
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx8g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.KfacStepTimeHarness "${preset[@]}" "$@"
