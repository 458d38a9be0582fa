#!/usr/bin/env bash
# Runs the experiments of docs/RESULTS.md, one `sceald train` after another,
# and writes each into runs/experiments/<name>/ with its wall time. A run whose
# metrics.json exists is skipped, so the script can be stopped and restarted.
# Afterwards docs/experiments/summarize.py prints the tables.
#
#   docs/experiments/run.sh [synthetic|ferplus|all|table3|recipe]  (default all)
#   FERPLUS_ROOT=/path/to/ferplus docs/experiments/run.sh ferplus
#
# table3 completes the paper's Table III on the synthetic set: beta in
# {0.1, ..., 1.0} at 0/10/20/30% noise (the synthetic runs give beta 0.7 and
# the beta = 1 baseline; this adds the other eight at each noise, reusing
# their Module A: 96 task-only runs for 3 seeds, about a day on 2 cores).
# summarize.py prints Table III from whatever of the grid exists.
#
# recipe trains `sceald train --preset ferplus` (the FERPlus recipe,
# docs/RESULTS.md) on all of FERPlus for seeds 1, 2, 3: about 2 hours each.
#
# Scale (2 CPU cores): ResNet-18 at width 1/4 as the task network (VGG16
# without batch norm learns too slowly from scratch at CPU widths; see
# docs/RESULTS.md), the Auto-Encoder at width 1/8 with h = 256 and gamma = 5,
# trained for ~900-1,300 steps (with gamma = 1 and a few epochs its code
# collapses onto the mean word vector: docs/RESULTS.md), Adam 1e-3, batch 32,
# seeds 1, 2, 3. The beta sweep and the ot runs reuse the Module A of the
# 20%-noise run of their seed (same images, labels and seed: the same
# semantic.safetensors), so they train only the task network.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
which="${1:-all}"
sceald="${SCEALD:-$root/build/sceald}"
out="${OUT:-$root/runs/experiments}"
ferplus_root="${FERPLUS_ROOT:-$root/../shared/data/ferplus}"
threads="${THREADS:-2}"
mkdir -p "$out"
[ -x "$sceald" ] || { echo "run.sh: $sceald not found; build first (scripts/build.sh) or set SCEALD" >&2; exit 2; }

common=(--arch resnet18 --width-mult 0.25 --ae-width-mult 0.125 --ae-hidden 256 --ae-lr 1e-3 --gamma 5 --lr 1e-3
        --batch-size 32 --threads "$threads" --workers 1)

# run NAME ARGS...: one training run, skipped when done; a run stopped half-way
# (a sitting ended, the machine was taken) is resumed where its last
# checkpoint left it. Wall time is summed over sittings (wall_seconds).
run() {
  local name="$1"; shift
  local dir="$out/$name"
  if [ -f "$dir/metrics.json" ] && [ -f "$dir/wall_seconds" ]; then echo "done already: $name"; return; fi
  local cmd=(train "$@" --out "$dir") spent=0
  if [ -f "$dir/config.json" ] && { [ -f "$dir/checkpoint_latest.safetensors" ] || [ -f "$dir/semantic.safetensors" ]; }; then
    cmd=(train --resume "$dir" --threads "$threads" --workers 1)
    for arg in "$@"; do [ "$arg" = --with-baseline ] && cmd+=(--with-baseline); done
    spent=$(cat "$dir/wall_seconds.partial" 2>/dev/null || echo 0)
    echo "== $name: resuming (sceald ${cmd[*]})"
  else
    rm -rf "$dir"
    if [ -n "${SHARE_AE_FROM:-}" ]; then  # Module A of an earlier run with the same data, labels and seed
      mkdir -p "$dir" && cp "$out/$SHARE_AE_FROM/semantic.safetensors" "$dir/"
    fi
    echo "== $name: sceald ${cmd[*]}"
  fi
  local t0; t0=$(date +%s.%N)
  # The partial wall time is kept up to date, so a sitting that ends mid-run still counts.
  ( while sleep 60; do awk -v a="$(date +%s.%N)" -v b="$t0" -v s="$spent" 'BEGIN { printf "%.1f\n", s + a - b }' \
      > "$dir/wall_seconds.partial" 2>/dev/null; done ) &
  local ticker=$!
  "$sceald" "${cmd[@]}" >> "$out/$name.log" 2>&1 || { kill "$ticker"; echo "FAILED: $name (see $out/$name.log)" >&2; return 1; }
  kill "$ticker"
  awk -v a="$(date +%s.%N)" -v b="$t0" -v s="$spent" 'BEGIN { printf "%.1f\n", s + a - b }' > "$dir/wall_seconds"
  rm -f "$dir/wall_seconds.partial"
  tail -n 8 "$out/$name.log"
}

synthetic=(--dataset synthetic --epochs 12 --ld-start-epoch 5 --ae-epochs 14)
ferplus=(--dataset ferplus --data-root "$ferplus_root" --train-split train --val-split valid --train-subset 8000
         --epochs 6 --ld-start-epoch 3 --ae-epochs 4)

if [ "$which" = synthetic ] || [ "$which" = all ]; then
  for seed in 1 2 3; do
    # (1) label noise, SCE-ALD (beta 0.7, sorted) beside its baseline (beta 1)
    for noise in 0 0.1 0.2 0.3; do
      run "synthetic-noise$noise-seed$seed" "${common[@]}" "${synthetic[@]}" --noise "$noise" --seed "$seed" --with-baseline
    done
    # (3) beta sweep at 20% noise (0.7 and 1 come from the runs above)
    for beta in 0.1 0.3 0.5 0.9; do
      SHARE_AE_FROM="synthetic-noise0.2-seed$seed" \
        run "synthetic-noise0.2-beta$beta-seed$seed" "${common[@]}" "${synthetic[@]}" --noise 0.2 --beta "$beta" --seed "$seed"
    done
    # (4) the exact optimal-transport confidence at 20% noise
    SHARE_AE_FROM="synthetic-noise0.2-seed$seed" \
      run "synthetic-noise0.2-ot-seed$seed" "${common[@]}" "${synthetic[@]}" --noise 0.2 --confidence-distance ot --seed "$seed"
  done
fi

if [ "$which" = table3 ]; then
  for seed in 1 2 3; do
    for noise in 0 0.1 0.2 0.3; do
      run "synthetic-noise$noise-seed$seed" "${common[@]}" "${synthetic[@]}" --noise "$noise" --seed "$seed" \
        --with-baseline
      for beta in 0.1 0.2 0.3 0.4 0.5 0.6 0.8 0.9; do
        SHARE_AE_FROM="synthetic-noise$noise-seed$seed" run "synthetic-noise$noise-beta$beta-seed$seed" \
          "${common[@]}" "${synthetic[@]}" --noise "$noise" --beta "$beta" --seed "$seed"
      done
    done
  done
fi

if [ "$which" = ferplus ] || [ "$which" = all ]; then
  if [ ! -d "$ferplus_root/FER2013Train" ] && [ ! -f "$ferplus_root/fer2013.csv" ]; then
    echo "run.sh: no FERPlus under $ferplus_root (set FERPLUS_ROOT); FERPlus experiments skipped" >&2
  else
    for seed in 1 2 3; do
      # (2) FERPlus: plurality labels clean and at 30% noise, and the original FER2013 labels
      run "ferplus-noise0-seed$seed" "${common[@]}" "${ferplus[@]}" --seed "$seed" --with-baseline
      run "ferplus-noise0.3-seed$seed" "${common[@]}" "${ferplus[@]}" --noise 0.3 --seed "$seed" --with-baseline
      run "ferplus-fer2013-seed$seed" "${common[@]}" "${ferplus[@]}" --labels fer2013 --seed "$seed" --with-baseline
    done
  fi
fi
if [ "$which" = recipe ]; then
  for seed in 1 2 3; do
    run "ferplus-recipe-seed$seed" --preset ferplus --data-root "$ferplus_root" --seed "$seed" --threads "$threads" \
      --workers 1
  done
fi
echo "all runs in $out; tables: python3 $root/docs/experiments/summarize.py $out"
