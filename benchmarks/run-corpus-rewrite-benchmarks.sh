#!/usr/bin/env bash
# Builds the benchmarks jar and runs CorpusRewriteHarness (issue 18 goal: the largest corpus graph
# rewritten in under 2 s on 2 cores): `dks rewrite` with its defaults on the 5 largest corpus models
# by weight bytes and the 5 largest by node count, cold (a fresh JVM per model) and JVM-warm, with
# the wall and CPU time of every pass and verifier. Needs the corpus (scripts/fetch-assets.sh --corpus).
#
#   benchmarks/run-corpus-rewrite-benchmarks.sh
#   benchmarks/run-corpus-rewrite-benchmarks.sh --models blazepose-heavy --cold no --rounds 5
#   SKIP_BUILD=1 benchmarks/run-corpus-rewrite-benchmarks.sh
#
# TF_ENABLE_ONEDNN_OPTS=0 as in run-corpus.sh (oneDNN's graph rewrite crashes on blazepose-heavy).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine
TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
  java ${JAVA_OPTS:--Xmx4g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" \
  dev.dks.benchmarks.CorpusRewriteHarness "$@"
