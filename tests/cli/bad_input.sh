#!/usr/bin/env bash
# The sceald command line on bad input: each case must exit with the given
# status and print a message holding the given text (README: errors name the
# option and the value; usage errors exit 2, other errors 1).
# Usage: bad_input.sh PATH/TO/sceald
set -u
sceald="$1"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0

# expect STATUS TEXT -- ARGS...   (ENV=value pairs before ARGS go to env)
expect() {
  local status="$1" text="$2"
  shift 3
  local out rc
  out=$(env "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $status || "$out" != *"$text"* ]]; then
    echo "FAIL: $* -> exit $rc (want $status), output:"
    echo "$out" | head -5 | sed 's/^/    /'
    echo "    (want it to hold: $text)"
    failures=$((failures + 1))
  else
    echo "ok:   $*"
  fi
}

expect 2 "--threads: Value 100000 not in range 0 to 1024" -- "$sceald" train --threads 100000
expect 2 "--threads: Value 5000 not in range 0 to 1024" -- "$sceald" benchmark --threads 5000
expect 2 "OMP_NUM_THREADS=100000 asks for 100000 threads; at most 1024" -- OMP_NUM_THREADS=100000 "$sceald" info
expect 2 "--seed: expected a whole number, got '-1'" -- "$sceald" train --seed -1
expect 2 "--seed: '18446744073709551616' is larger than 18446744073709551615" -- \
  "$sceald" synth --out "$scratch/s" --seed 18446744073709551616
expect 2 "--stop-after: must be at least 1, got 0" -- "$sceald" train --stop-after 0
expect 2 "The following arguments were not expected: 3 --epoch" -- "$sceald" train --epoch 3
expect 1 "it takes only --with-baseline, --verbose, --stop-after, --threads and --workers, not --epochs, --lr" -- \
  "$sceald" train --resume "$scratch/run" --epochs 5 --lr 0.5
expect 1 "--resume $scratch/none: no config.json there" -- "$sceald" train --resume "$scratch/none"
expect 1 "--data-root $scratch/missing: no such folder" -- \
  "$sceald" train --dataset ferplus --data-root "$scratch/missing" --out "$scratch/failed"
if [[ -e "$scratch/failed" ]]; then  # a run that cannot start leaves no folder behind
  echo "FAIL: a run with a missing --data-root made its --out folder"
  failures=$((failures + 1))
fi
expect 1 "--preset imagenet: no such preset (known: ferplus)" -- "$sceald" train --preset imagenet --out "$scratch/p"
expect 1 "--data-root is required for --dataset ferplus" -- "$sceald" train --preset ferplus --out "$scratch/p"
expect 1 "--labels majority: dataset rafdb has one label per image" -- \
  "$sceald" train --dataset rafdb --data-root "$scratch" --labels majority --out "$scratch/p"
expect 1 "--lr-schedule linear: expected constant, cosine or step" -- "$sceald" train --lr-schedule linear
expect 1 "--tta twice: expected none or flip" -- "$sceald" eval --checkpoint "$scratch" --tta twice
expect 1 ") needs --data-root: the FERPlus folder to evaluate it on" -- "$sceald" eval
printf 'P5\n1 1\n255\n\0' >"$scratch/face.pgm"
expect 1 "no --checkpoint given, and the shipped model is not at $scratch/none/ferplus.safetensors" -- \
  SCEALD_MODELS_DIR="$scratch/none" "$sceald" predict "$scratch/face.pgm"
expect 2 "--run: Directory does not exist: $scratch/nowhere" -- "$sceald" figures --run "$scratch/nowhere"
expect 1 "--run $scratch: expected config.json and samples.csv there" -- "$sceald" figures --run "$scratch"
expect 2 "unknown command 'bogus' (the commands: benchmark, convert" -- "$sceald" bogus
expect 2 "--num-classes: must be at least 1, got 0" -- "$sceald" benchmark --num-classes 0
printf '{' >"$scratch/config.json"
expect 1 "$scratch/config.json: not valid JSON" -- "$sceald" train --resume "$scratch"

echo "$failures failed"
[[ $failures -eq 0 ]]
