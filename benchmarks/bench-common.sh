# Sourced by the run-*-benchmarks.sh scripts: goes to the repository root, sets $root and $jar
# (the benchmarks jar) and defines the steps they share.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# TensorFlow environment read at native load (oneDNN ISA cap)
source "$root/scripts/tf-env.sh"

jar=benchmarks/target/benchmarks.jar

# Builds the jar unless SKIP_BUILD=1, then stops with "missing $jar: HINT" (stderr) if it is not
# there; HINT defaults to the build command.
bench_build() {
  if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    mvn -q -DskipTests -pl benchmarks -am package
  fi
  if [[ ! -f "$jar" ]]; then
    echo "missing $jar: ${1:-build with mvn -DskipTests -pl benchmarks -am package}" >&2
    exit 1
  fi
}

# Prints the machine: cores, CPU model, RAM and load average.
bench_machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')," \
    "$(free -g | awk '/^Mem:/ {print $2 " GB RAM"}'), load average $(cut -d' ' -f1-3 /proc/loadavg)" \
    "(other work on the machine skews the numbers)"
}

# Runs the benchmarks jar's main class $1 with the remaining arguments as the corpus scripts do:
# 4 GB heap unless JAVA_OPTS says otherwise, quiet TensorFlow, and TF_ENABLE_ONEDNN_OPTS=0 unless
# set (TensorFlow's oneDNN graph rewrite crashes the JVM on blazepose-heavy: SIGSEGV in
# MklLayoutRewritePass/FillInputs when a session first runs the read graph: its float Pads added to
# a fused conv; dks convert rewrites them as PadV2, the corpus scripts run the graph as read).
bench_corpus_java() {
  local main="$1"
  shift
  TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}" TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}" \
    java ${JAVA_OPTS:--Xmx4g} -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 -cp "$jar" "$main" "$@"
}
