#!/usr/bin/env bash
# Builds the benchmarks jar and runs issue 16's time-to-accuracy experiment with
# KfacConvergenceHarness: on Fashion-MNIST, batch 128, base width 16, in one process, the runs
# interleaved step by step (so load on the machine slows them alike):
#   kfac-default  the ResNet-50 v2 layout without skips and batch normalization (TAT's LReLUNet),
#                 TAT-shaped leaky ReLU, K-FAC with dks train's defaults (KfacOptions.defaults(),
#                 OptimizerDefaults.kfac(): what `dks train --optimizer kfac` does with no flag)
#   resnet        the BN-ResNet-50 v2 (batch statistics), ReLU, SGD Nesterov 0.9, peak lr 0.1,
#                 cosine after a 10% warm-up: the reference
#   sgd           the plain network of kfac-default with SGD Nesterov (peak lr 0.003): only the
#                 step-time baseline of the same network (goal: K-FAC step <= 1.2x its step)
# Training time = the sum of each run's own step times (K-FAC's burn-in included), evaluation
# excluded; the process CPU time of those steps is recorded next to it. Every EVAL_EVERY steps each
# run is evaluated on EVAL_EXAMPLES test images (default all 10,000). The target is the
# reference's test accuracy at its last checkpoint (pass --target-step N for another); the table
# says when each run first reached it.
#
#   benchmarks/run-time-to-accuracy.sh                 # 400 steps (the issue's first goal)
#   STEPS=800 benchmarks/run-time-to-accuracy.sh       # the second goal
#   STEPS=100 EVAL_EVERY=25 EVAL_EXAMPLES=2000 benchmarks/run-time-to-accuracy.sh   # short
#   SKIP_BUILD=1 benchmarks/run-time-to-accuracy.sh    # reuse benchmarks.jar
#
# Extra arguments go to the harness (--help lists them) and override the defaults here, e.g.
# --runs "kfac-default;kfac-default:stats=1,label=K-FAC stats every step;resnet;sgd:arch=plain-resnet,lr=0.003".
# Output folder benchmarks/target/time-to-accuracy: time-to-accuracy.md (the table and a text
# chart, for BENCHMARKS.md), checkpoints.csv, accuracy.png (test accuracy against training time),
# steps.csv, evals.jsonl, summary.json, loss.png. Needs Fashion-MNIST in the data cache
# (scripts/fetch-assets.sh). JAVA_OPTS overrides the JVM options (default -Xmx8g).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine

steps="${STEPS:-400}"
preset=(--runs "kfac-default;resnet;sgd:arch=plain-resnet,lr=0.003" --steps "$steps"
  --eval-every "${EVAL_EVERY:-$(( steps / 8 ))}" --eval-examples "${EVAL_EXAMPLES:-10000}"
  --reference resnet --out benchmarks/target/time-to-accuracy)
# TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's INFO/WARNING lines (and the oneDNN banner) on stderr.
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx8g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.KfacConvergenceHarness "${preset[@]}" "$@"
