#!/usr/bin/env bash
# Builds the benchmarks jar and runs KfacConvergenceHarness: issue 6's headline experiment
# scaled to a 2-core machine. On Fashion-MNIST, interleaved step by step in one process, with
# equal steps, cosine schedule after a 10% linear warm-up, momentum 0.9, label smoothing 0.1:
#   kfac      the ResNet-50 v2 layout (base width 16) with its skips and batch normalization
#             removed (TAT's LReLUNet), TAT-shaped leaky ReLU, K-FAC
#   sgd       the same network, SGD Nesterov (peak lr 0.003, the best of 0.003/0.005/0.01/0.03/0.1)
#   resnet    the ResNet-50 v2 with its skips and batch normalization (batch statistics),
#             unshaped ReLU, SGD Nesterov (peak lr 0.1)
#   standard  the plain network unshaped (ReLU, the builder's default init), SGD Nesterov 0.01
# Batch 128. K-FAC settings: the TAT recipe (EMA 0.99, statistics every step, burn-in 5, norm
# constraint 1e-3) with damping 1e-2, K-FAC-reduce convs, peak lr 1e-3 and inverses every 10,
# from the short tuning pass (TUNE=1): on this data at batch 128 the recipe's damping 1e-3, and
# 3e-3, diverge at every peak lr tried (3e-4 to 3e-3), and KFC-expand trails reduce.
# Prints the table (final train loss, test accuracy, steps/s, loss at equal wall time) and writes
# steps.csv, evals.jsonl, summary.json and loss.png (loss vs step and vs wall time).
# ARCH=plain runs the earlier, cheaper variant: a 50-layer plain CNN of constant width 16 with a
# stride-2 conv every 4 layers in place of the ResNet layout (its BN-ResNet keeps the ResNet-50
# layout, so it has 13x the parameters).
#
#   benchmarks/run-kfac-convergence.sh                  # headline, 400 steps (~10 min, 2 cores)
#   STEPS=150 benchmarks/run-kfac-convergence.sh        # shorter headline
#   TUNE=1 benchmarks/run-kfac-convergence.sh           # K-FAC grid: damping {1e-3,1e-2} x lr
#                                                       # {3e-4,1e-3} x conv {reduce, expand with
#                                                       # 3 d_A sampled rows}, 150 steps
#   SKIP_BUILD=1 benchmarks/run-kfac-convergence.sh     # reuse benchmarks.jar
#
# Extra arguments go to the harness (--help lists them: --runs --steps --batch --width --depth
# --resnet-depth --pool-every --eval-every --eval-examples --label-smoothing --threads --out) and
# override the defaults here. Needs Fashion-MNIST in the data cache (scripts/fetch-assets.sh).
# Output folder: benchmarks/target/kfac-convergence (TUNE=1: benchmarks/target/kfac-tuning).
# JAVA_OPTS overrides the JVM options (default -Xmx8g).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine

# The runs of the headline: K-FAC settings from the tuning pass (see the header).
if [[ "${ARCH:-plain-resnet}" == plain ]]; then
  KFAC="${KFAC:-kfac:damping=1e-2,conv=reduce,lr=1e-3,inv=10}"
  runs="$KFAC;sgd;resnet;standard"
else
  KFAC="${KFAC:-kfac:arch=plain-resnet,damping=1e-2,conv=reduce,lr=1e-3,inv=10}"
  runs="$KFAC;sgd:arch=plain-resnet,lr=0.003;resnet;standard:arch=plain-resnet"
fi
if [[ "${TUNE:-0}" == 1 ]]; then
  grid=""
  for d in 1e-3 1e-2; do for lr in 3e-4 1e-3; do
    grid="$grid;kfac:arch=plain-resnet,damping=$d,conv=reduce,lr=$lr,inv=10"
    grid="$grid;kfac:arch=plain-resnet,damping=$d,conv=expand,rows=3,lr=$lr,inv=10"
  done; done
  preset=(--runs "${grid#;}" --steps "${STEPS:-150}" --eval-every 50 --eval-examples 1000
    --out benchmarks/target/kfac-tuning)
  echo "TUNE=1: K-FAC grid, ${STEPS:-150} steps each, interleaved"
else
  preset=(--runs "$runs" --steps "${STEPS:-400}" --eval-every 100 --eval-examples 2000)
fi
# TF_CPP_MIN_LOG_LEVEL=2 hides TensorFlow's INFO/WARNING lines (and the oneDNN banner) on stderr.
TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx8g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.KfacConvergenceHarness "${preset[@]}" "$@"
