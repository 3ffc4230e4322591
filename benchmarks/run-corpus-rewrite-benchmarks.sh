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
# TF_ENABLE_ONEDNN_OPTS=0 unless set (bench_corpus_java in bench-common.sh says why).
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"
bench_build
bench_machine
bench_corpus_java dev.dks.benchmarks.CorpusRewriteHarness "$@"
