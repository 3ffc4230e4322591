#!/usr/bin/env bash
# End-to-end check of a GPU machine (issue 5, GPU): NVIDIA driver and CUDA 12 libraries present,
# dks built against TensorFlow Java's CUDA natives (mvn -Pgpu), a 50-layer TAT-shaped plain CNN
# built with `dks build`, trained for a short fixed number of steps with `dks train --device gpu`
# and again with `--device cpu` on the same machine, then a table: device, steps/s, examples/s,
# speed-up, and the device-placement lines of the run logs.
#
#   scripts/gpu-check.sh                      # full check (needs an NVIDIA GPU, driver, CUDA 12)
#   scripts/gpu-check.sh --steps 30 --depth 20 --batch 64
#   scripts/gpu-check.sh --cpu-only --depth 20 --steps 8  # the CPU half only (no GPU needed)
#
# Options: --steps N (default 40), --cpu-steps N (default: --steps), --depth D (50), --width W
# (64), --batch B (128), --data NAME|PATH (default synthetic:28x28x1:10:4096), --threads N (intra-op
# threads of the CPU run, default 0: TF decides), --work DIR (default target/gpu-check), --skip-build
# (reuse the GPU jar of an earlier run), --cpu-only.
#
# The GPU jar is built in a separate copy of the source tree (WORK/src, WORK/src/cli/target/dks.jar)
# so that it never replaces the CPU jar cli/target/dks.jar that ./dks uses; the first GPU build
# downloads TensorFlow Java's GPU natives (about 500 MB). Without --cpu-only both runs use the GPU
# jar (same binary; --device cpu pins every op to the CPU); --cpu-only uses ./dks (CPU natives).
# steps/s is 1 / the median per-step time of DIR/metrics.jsonl after the first 3 steps (the first
# steps include Grappler's graph optimization and GPU autotuning); the whole-run average that
# `dks train` prints is shown next to it. Exit codes: 0 ok, 1 a check or run failed, 2 bad option.
# Needs java 17, mvn (unless --skip-build / --cpu-only) and python3 (to read the JSON).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# TensorFlow environment read at native load (oneDNN ISA cap)
source "$root/scripts/tf-env.sh"
steps=40
cpu_steps=""
depth=50
width=64
batch=128
data="synthetic:28x28x1:10:4096"
threads=0
work="$root/target/gpu-check"
skip_build=0
cpu_only=0

die() { echo "gpu-check: error: $*" >&2; exit 1; }
usage() { echo "gpu-check: $*" >&2; echo "usage: see the header of $0" >&2; exit 2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --steps|--cpu-steps|--depth|--width|--batch|--data|--threads|--work)
      [[ $# -ge 2 ]] || usage "$1 needs a value"
      case "$1" in
        --steps) steps="$2" ;;
        --cpu-steps) cpu_steps="$2" ;;
        --depth) depth="$2" ;;
        --width) width="$2" ;;
        --batch) batch="$2" ;;
        --data) data="$2" ;;
        --threads) threads="$2" ;;
        --work) work="$2" ;;
      esac
      shift 2 ;;
    --skip-build) skip_build=1; shift ;;
    --cpu-only) cpu_only=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) usage "unknown option '$1'" ;;
  esac
done
cpu_steps="${cpu_steps:-$steps}"
for v in "$steps" "$cpu_steps" "$depth" "$width" "$batch"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || usage "--steps, --cpu-steps, --depth, --width and --batch take positive integers, got '$v'"
done
[[ "$threads" =~ ^[0-9]+$ ]] || usage "--threads takes an integer >= 0, got '$threads'"
command -v java >/dev/null || die "java not found on PATH (JDK 17 needed)"
command -v python3 >/dev/null || die "python3 not found on PATH (needed to read dks's JSON)"

# ---------------------------------------------------------------------------------------------
# 1. GPU and CUDA
# ---------------------------------------------------------------------------------------------
# Finds a shared library (e.g. libcudart.so.12) in the loader cache or on LD_LIBRARY_PATH.
find_lib() {
  local name="$1" d
  # (grep -q on a process substitution: in a pipe its early exit would fail the pipe, pipefail)
  if command -v ldconfig >/dev/null \
      && grep -q "[[:space:]]$name\(\.[0-9.]*\)\? " < <(ldconfig -p 2>/dev/null); then
    return 0
  fi
  IFS=: read -r -a dirs <<< "${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}" /usr/local/cuda/lib64 /usr/local/cuda-12*/lib64 /usr/lib/x86_64-linux-gnu; do
    [[ -n "$d" ]] && compgen -G "$d/$name*" >/dev/null && return 0
  done
  return 1
}

if [[ "$cpu_only" == 0 ]]; then
  command -v nvidia-smi >/dev/null \
    || die "no NVIDIA GPU: nvidia-smi not found (install the NVIDIA driver; run with --cpu-only to check the CPU half)"
  gpus="$(nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader 2>&1)" \
    || die "nvidia-smi failed: $(head -n1 <<< "$gpus") (no usable GPU or driver)"
  [[ -n "$gpus" ]] || die "nvidia-smi lists no GPU"
  cuda="$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9.]*\).*/\1/p' | head -n1)"
  echo "GPUs (index, name, memory, driver):"
  sed 's/^/  /' <<< "$gpus"
  echo "driver's CUDA version: ${cuda:-unknown}"
  [[ -n "$cuda" && "${cuda%%.*}" -ge 12 ]] \
    || die "the driver supports CUDA ${cuda:-unknown}; TensorFlow 2.18 (TF Java 1.1.0) needs CUDA 12"
  missing=()
  for lib in libcudart.so.12 libcublas.so.12 libcublasLt.so.12 libcufft.so.11 libcusolver.so.11 \
      libcusparse.so.12 libcudnn.so.9; do
    find_lib "$lib" || missing+=("$lib")
  done
  if [[ ${#missing[@]} -gt 0 ]]; then
    die "CUDA 12 / cuDNN 9 libraries not found: ${missing[*]} (install the CUDA 12 toolkit and cuDNN 9, or put their lib folders on LD_LIBRARY_PATH)"
  fi
  echo "CUDA 12 and cuDNN 9 libraries: found"
fi

# ---------------------------------------------------------------------------------------------
# 2. Build
# ---------------------------------------------------------------------------------------------
mkdir -p "$work"
if [[ "$cpu_only" == 1 ]]; then
  # ./dks (re)builds cli/target/dks.jar with the CPU natives when it is stale
  run_dks() { "$root/dks" "$@"; }
  jar_label="cli/target/dks.jar (CPU natives, via ./dks)"
else
  src="$work/src"
  gpu_jar="$src/cli/target/dks.jar"
  if [[ "$skip_build" == 0 || ! -f "$gpu_jar" ]]; then
    command -v mvn >/dev/null || die "mvn not found on PATH"
    echo "copying the source tree to $src and building it with -Pgpu (cli/target/dks.jar stays the CPU build)"
    rm -rf "$src"
    mkdir -p "$src"
    (cd "$root" && tar --exclude=./.git --exclude='./target' --exclude='*/target' \
        --exclude=./data-cache -cf - .) | (cd "$src" && tar -xf -)
    echo "(log: $work/gpu-build.log; the first build downloads the GPU natives, about 500 MB)"
    if ! (cd "$src" && mvn -B -Pgpu -DskipTests -pl cli -am package) > "$work/gpu-build.log" 2>&1; then
      tail -n 30 "$work/gpu-build.log" >&2
      die "the GPU build failed (mvn -B -Pgpu -DskipTests -pl cli -am package in $src; log: $work/gpu-build.log)"
    fi
  fi
  [[ -f "$gpu_jar" ]] || die "missing $gpu_jar after the build"
  if command -v unzip >/dev/null && ! grep -q 'linux-x86_64-gpu' < <(unzip -l "$gpu_jar"); then
    echo "gpu-check: warning: $gpu_jar does not seem to hold the linux-x86_64-gpu natives" >&2
  fi
  # the data sets of scripts/fetch-assets.sh stay in this checkout's data-cache/
  if [[ -z "${DKS_DATA_CACHE:-}" && -d "$root/data-cache" ]]; then
    export DKS_DATA_CACHE="$root/data-cache"
  fi
  run_dks() {
    java -Dorg.bytedeco.javacpp.maxPhysicalBytes=0 ${DKS_JAVA_OPTS:-} -jar "$gpu_jar" "$@"
  }
  jar_label="$gpu_jar (GPU natives, built with -Pgpu)"
fi
echo "dks jar: $jar_label"

# ---------------------------------------------------------------------------------------------
# 3. Model and runs
# ---------------------------------------------------------------------------------------------
model="$work/plain-cnn-$depth"
rm -rf "$model"
echo "building a $depth-layer TAT-shaped leaky-ReLU plain CNN, width $width, 28x28x1 -> 10"
TF_CPP_MIN_LOG_LEVEL=2 run_dks build --arch plain-cnn --depth "$depth" --width "$width" \
  --activation leaky_relu --shaped --method TAT --input 28x28x1 --classes 10 --out "$model" \
  > "$work/build.log" 2>&1 || { cat "$work/build.log" >&2; die "dks build failed"; }

# Runs `dks train --device $1` for $2 steps; writes $work/train-$1.{json,log} and the run folder.
train() {
  local dev="$1" n="$2" out="$work/train-$1"
  rm -rf "$out"
  echo "training on $dev: $n steps, batch $batch, data $data"
  # TF_CPP_MIN_LOG_LEVEL=0: keep TF's INFO lines ("Created device ... GPU:0 ...") in the log
  if ! TF_CPP_MIN_LOG_LEVEL=0 run_dks train "$model" --data "$data" --steps "$n" --batch "$batch" \
      --lr 0.01 --device "$dev" --threads "$threads" --checkpoint-every "$n" --eval-every "$n" \
      --out "$out" --json > "$work/train-$dev.json" 2> "$work/train-$dev.log"; then
    tail -n 20 "$work/train-$dev.log" >&2
    die "dks train --device $dev failed (log: $work/train-$dev.log)"
  fi
}

# Prints "effective steps_per_s whole_run_steps_per_s ops" of a run.
summary() {
  python3 - "$work/train-$1.json" "$work/train-$1/metrics.jsonl" <<'EOF'
import json, statistics, sys
r = json.load(open(sys.argv[1]))
secs = [json.loads(l)["seconds"] for l in open(sys.argv[2]) if '"type":"step"' in l]
steady = secs[3:] if len(secs) > 4 else secs[1:] if len(secs) > 1 else secs
med = statistics.median(steady)
ops = ",".join(f"{d.rsplit('device:', 1)[-1]}={n}" for d, n in r["device"]["ops"].items()) or "none"
print(r["device"]["effective"], 1.0 / med if med > 0 else 0.0, r["steps_per_second"], ops)
EOF
}

devices=()
[[ "$cpu_only" == 0 ]] && devices+=(gpu)
devices+=(cpu)
for d in "${devices[@]}"; do
  if [[ "$d" == gpu ]]; then train gpu "$steps"; else train cpu "$cpu_steps"; fi
done

declare -A eff sps avg ops
for d in "${devices[@]}"; do
  read -r eff[$d] sps[$d] avg[$d] ops[$d] < <(summary "$d")
done

echo
echo "device-placement lines of the run logs:"
for d in "${devices[@]}"; do
  echo "  --device $d: effective ${eff[$d]}; ops of a traced forward pass per device: ${ops[$d]}"
  grep -hE 'Created device|device:GPU|gpu_device.cc|dks: notice|Could not load dynamic library|Cannot dlopen|cuDNN|placement' \
    "$work/train-$d.log" | head -n 8 | sed 's/^/    /' || true
done

echo
printf '%-6s %12s %12s %14s %10s\n' device steps/s examples/s "run avg st/s" speed-up
for d in "${devices[@]}"; do
  python3 -c "
import sys
d, s, a, cpu, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
print(f'{d:<6} {s:12.2f} {s*b:12.1f} {a:14.2f} {s/cpu:9.2f}x')" \
    "$d" "${sps[$d]}" "${avg[$d]}" "${sps[cpu]}" "$batch"
done
echo "(steps/s: 1 / median step time after the first 3 steps; run avg: dks train's whole-run figure)"
echo "logs and JSON: $work/train-*.{log,json}"

if [[ "$cpu_only" == 0 ]]; then
  [[ "${eff[gpu]}" == gpu && "${ops[gpu]}" == *GPU* ]] \
    || die "--device gpu did not run on the GPU (effective ${eff[gpu]}, ops ${ops[gpu]}): TF could not use CUDA; see $work/train-gpu.log"
  echo "gpu-check: OK"
else
  echo "gpu-check: CPU half OK (--cpu-only: no GPU checked)"
fi
