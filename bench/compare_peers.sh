#!/usr/bin/env bash
# Ours beside the peers on this machine, in one run, as ratios of medians:
#   1. SGEMM on square sizes and VGG16's im2col and classifier shapes:
#      build/bench/bench_gemm times our sgemm and OpenBLAS's cblas_sgemm
#      (loaded from libopenblas.so.0 at run time) in the same process, shape
#      by shape, each pair back to back, three times, and closes with a table
#      of median ratios;
#   2. VGG16 at 48x48, batch 64 (7 classes, torchvision's layout): a training
#      step (forward, cross-entropy, backward, SGD momentum 0.9) and a forward
#      pass, `sceald benchmark` against PyTorch 1.13 (bench/peer_pytorch_vgg16.py),
#      alternating which goes first, ROUNDS rounds, medians and ratios.
#
#   bench/compare_peers.sh [--threads T] [--rounds R] [--image-size S] [--batch-size B] [--skip-gemm]
#
# It installs what the peers need (Debian's libopenblas0-pthread, without
# which PyTorch falls back to the reference BLAS, and python3-torch), builds
# the project (scripts/build.sh), and pins both sides to T threads with
# OMP_NUM_THREADS and OPENBLAS_NUM_THREADS (OpenBLAS ignores
# torch.set_num_threads). The machine is noisy: compare ratios from one run.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
threads=2 rounds=3 image_size=48 batch_size=64 skip_gemm=0 steps=3
while (($#)); do
  case "$1" in
    --threads) threads="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --image-size) image_size="$2"; shift 2 ;;
    --batch-size) batch_size="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --skip-gemm) skip_gemm=1; shift ;;
    *) echo "compare_peers.sh: unknown option '$1' (see the header of $0)" >&2; exit 2 ;;
  esac
done

"$root/scripts/install-deps.sh" libopenblas0-pthread python3-torch
build="${BUILD_DIR:-$root/build}"  # or another build folder (BUILD_DIR=build-cpu, say)
[ -x "$build/sceald" ] && [ -x "$build/bench/bench_gemm" ] || "$root/scripts/build.sh" >/dev/null
export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads" OMP_WAIT_POLICY=passive
echo "compare_peers: $(date -u '+%Y-%m-%d %H:%M UTC'), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"\
     "$(nproc) cores, $threads thread(s), $rounds rounds"

if [ "$skip_gemm" = 0 ]; then
  echo "== SGEMM, ours vs OpenBLAS ($threads thread(s))"
  # The table of ratios (rows named square/... and vgg16_...) closes bench_gemm's output.
  # Each shape's two runs back to back, three times: medians of pairs.
  "$build/bench/bench_gemm" --benchmark_filter='fma_peak|square/(1024|2048)/|vgg16' --benchmark_min_time=0.2 \
    --benchmark_repetitions=3 2>&1 | grep -E 'fma_peak.*_median|sgemm path|ratio|^(square|vgg16)' |
    sed 's/\x1b\[[0-9;]*m//g'
fi

echo "== VGG16 ${image_size}x${image_size}, batch $batch_size: sceald vs PyTorch ($threads thread(s))"
results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT
ours() {
  "$build/sceald" benchmark --arch vgg16 --image-size "$image_size" --batch-size "$batch_size" \
    --threads "$threads" --steps "$steps" --json "$results/ours-$1.json" >/dev/null
}
theirs() {
  /usr/bin/python3 "$root/bench/peer_pytorch_vgg16.py" --image-size "$image_size" --batch-size "$batch_size" \
    --threads "$threads" --steps "$steps" > "$results/peer-$1.json"
}
for r in $(seq 1 "$rounds"); do
  if ((r % 2)); then ours "$r"; theirs "$r"; else theirs "$r"; ours "$r"; fi
  echo "  round $r of $rounds done"
done
/usr/bin/python3 - "$results" "$rounds" <<'PY'
import json, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
ours = [json.load(open(f"{d}/ours-{r}.json")) for r in range(1, rounds + 1)]
peer = [json.load(open(f"{d}/peer-{r}.json")) for r in range(1, rounds + 1)]
print(f"  peer: {peer[0]['peer']}")
print(f"  {'median over rounds':28} {'sceald':>10} {'PyTorch':>10} {'ratio':>7}")
for key, label in [("train_images_per_s", "training step, images/s"), ("forward_images_per_s", "forward, images/s"),
                   ("peak_rss_bytes", "peak resident memory, MiB")]:
    a = statistics.median(o[key] for o in ours)
    b = statistics.median(p[key] for p in peer)
    scale = 1 / 2**20 if key == "peak_rss_bytes" else 1
    print(f"  {label:28} {a * scale:10.2f} {b * scale:10.2f} {a / b:7.2f}")
print("  per round (ours / PyTorch, training images/s): " +
      ", ".join(f"{o['train_images_per_s']:.1f}/{p['train_images_per_s']:.1f}" for o, p in zip(ours, peer)))
PY
