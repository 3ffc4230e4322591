#!/usr/bin/env bash
# Runs VerifySweep (issue 12: `dks verify MODEL` with no flags passes on every shaped model the
# tool writes): dks build --shaped over MLPs, plain CNNs (with and without stride-2 down-sampling)
# and ResNets v2/v1 at widths 16 and 64, TAT (leaky_relu, softplus) and DKS (softplus, tanh), build
# seeds 0, 1, 2, every other activation on a width-16 MLP, BN models and the real models of
# ../shared/models rewritten by TAT and DKS softplus at rewrite seeds 0, 1, 2; verifies each with
# no flags and prints a table (family, model, verdict, judged c and q errors with what is allowed,
# draws x pairs, c standard error, CPU s of the build/rewrite and of the verify), pass counts per
# family, and writes the rows as JSON (WORK/sweep.json). Models are written once into
# benchmarks/target/verify-sweep/ and reused. About 20 minutes of CPU.
#
#   benchmarks/run-verify-sweep.sh                                   # all models
#   benchmarks/run-verify-sweep.sh --only 'resnet18_w16'             # names matching a regex
#   benchmarks/run-verify-sweep.sh --seeds 0 --shared none           # seed 0, no shared models
#   benchmarks/run-verify-sweep.sh --only tanh --verify "--draws 96 --pairs 768"   # noise or bias?
#   benchmarks/run-verify-sweep.sh --markdown FILE --json FILE       # the table and rows into files
#   SKIP_BUILD=1 benchmarks/run-verify-sweep.sh                      # reuse the last build
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

bench_build "run without SKIP_BUILD=1 first"
bench_machine

TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx2g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.VerifySweep "$@"
