#!/usr/bin/env bash
# bench/device_check.sh: the one prepared check for a machine with an NVIDIA
# GPU (written for an H100/H200: CUDA 12 or 13, cuDNN 9, 16 cores).
#
# In order, in under 8 minutes (each phase has its own time limit):
#   1. configure and build the CUDA backend and the GPU test binary
#      (CMAKE_CUDA_ARCHITECTURES=90) in $SCEALD_DEVICE_BUILD;
#   2. ctest -L gpu: every CUDA op against its CPU twin (forward, backward,
#      NaN-poisoned outputs, determinism), the small-VGG training step, the
#      fused optimisers, the allocator;
#   3. time VGG16 training steps (224x224, batch 64, SGD with momentum) in
#      fp32 (precise mode: no TF32) and TF32 (fast mode), with this engine
#      (the GpuBench.Vgg16TrainingStep test) and with the PyTorch that
#      python3 finds on the machine (same model, same step, cudnn.benchmark
#      off as in our heuristic choice, cudnn.deterministic in fp32 as in our
#      precise mode), one after the other; every step is timed on its own
#      (each ends by reading the loss, which waits for the GPU);
#   4. print a short table, last: images/s of the median step, the ratio
#      sceald / PyTorch, the fastest and slowest step, and the peak memory
#      tensors asked for (our allocator's peak requested bytes;
#      torch.cuda.max_memory_allocated).
#
# A GPU machine here reaches no package registry and may lack GoogleTest,
# nlohmann_json, CLI11, TurboJPEG and libspng: first run, on a machine with
# the registries, scripts/device-deps.sh (fetches them into .device-deps/),
# then carry that folder along; this script unpacks it into a prefix of its
# own and finds cuDNN in PyTorch's pip wheel when the system has none. With
# the device tool, in one call:
#   run  command="bash bench/device_check.sh"  carry=[".device-deps"]  timeout_s=540
#
# Usage:  bench/device_check.sh            (from any directory)
# Environment (all optional):
#   SCEALD_DEVICE_BUILD  build directory (default: <repo>/build-device-check)
#   JOBS                 parallel build jobs (default: nproc)
#   SCEALD_BENCH_BATCH   batch size (64); SCEALD_BENCH_STEPS timed steps (20);
#   SCEALD_BENCH_WARMUP  untimed steps first (2)
#   SKIP_TESTS=1         build and benchmark only
# Exit status: ctest's (the benchmark table is printed either way); 2 when
# the build fails.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SCEALD_DEVICE_BUILD:-$ROOT/build-device-check}"
JOBS="${JOBS:-$(nproc)}"
export SCEALD_BENCH_BATCH="${SCEALD_BENCH_BATCH:-64}"
export SCEALD_BENCH_STEPS="${SCEALD_BENCH_STEPS:-20}"
export SCEALD_BENCH_WARMUP="${SCEALD_BENCH_WARMUP:-2}"
LOG="$BUILD/device_check"
START=$(date +%s)

phase() { echo; echo "=== [$(( $(date +%s) - START ))s] $*"; }
# Seconds a phase may take: its own cap, but never so long that the phases
# after it (their minimum needs given as `reserve`) would end past 470 s.
budget() {  # budget <cap> <reserve>
  local left=$(( 470 - ($(date +%s) - START) - $2 ))
  (( left < $1 )) && echo $(( left > 10 ? left : 10 )) || echo "$1"
}

# ---- 1. build
phase "configure and build (CUDA on, sm_90) in $BUILD"
mkdir -p "$BUILD"
if ! command -v nvcc >/dev/null 2>&1 && [[ -x /usr/local/cuda/bin/nvcc ]]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
nvcc --version 2>/dev/null | tail -1 || echo "(nvcc not found: the configuration will say so)"
echo "host compiler: $(c++ --version 2>/dev/null | head -1 || echo 'none found')"
GENERATOR=()
command -v ninja >/dev/null 2>&1 && GENERATOR=(-G Ninja)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "(nvidia-smi not found)"

# Build dependencies carried as .deb files (scripts/device-deps.sh), unpacked
# into a prefix of our own: unpacking into / could break the machine's image.
PREFIXES=()
DEPS_DIR="$ROOT/.device-deps"
if compgen -G "$DEPS_DIR/*.deb" >/dev/null; then
  DEPS_PREFIX="${SCEALD_DEVICE_DEPS_PREFIX:-/tmp/sceald-device-deps}"
  rm -rf "$DEPS_PREFIX" && mkdir -p "$DEPS_PREFIX"
  for deb in "$DEPS_DIR"/*.deb; do
    dpkg-deb -x "$deb" "$DEPS_PREFIX" || { echo "device_check: could not unpack $deb"; exit 2; }
  done
  PREFIXES+=("$DEPS_PREFIX/usr")
  export LD_LIBRARY_PATH="$DEPS_PREFIX/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  echo "unpacked $(ls "$DEPS_DIR"/*.deb | wc -l) packages from $DEPS_DIR into $DEPS_PREFIX"
else
  echo "(no $DEPS_DIR: GoogleTest, nlohmann_json, CLI11, TurboJPEG and libspng must be installed here;" \
       "scripts/device-deps.sh fetches them on a machine with the registries)"
fi

# cuDNN: the system's if it has one, else the pip wheel beside PyTorch.
CUDNN_ARGS=()
if ! compgen -G "/usr/include/cudnn_version.h" >/dev/null && ! compgen -G "/usr/include/*/cudnn_version.h" >/dev/null &&
   ! compgen -G "/usr/local/cuda/include/cudnn_version.h" >/dev/null && [[ -z "${CUDNN_ROOT:-}" ]]; then
  for py in python3 /usr/bin/python3; do
    root=$("$py" -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null) || continue
    if [[ -f "$root/include/cudnn_version.h" ]]; then
      CUDNN_ARGS=(-DCUDNN_ROOT="$root")
      # cuDNN loads its sub-libraries from its own folder later, and they need nvrtc and cuBLASLt of
      # the CUDA major it was built for: the toolkit's first (the engine's own cuBLAS stays the one it
      # was built against), then the other nvidia wheels' lib folders for what the toolkit lacks
      # (nvidia/cu13/lib, nvidia/cublas/lib, nvidia/cuda_nvrtc/lib, ...).
      export LD_LIBRARY_PATH="$root/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
      [[ -d /usr/local/cuda/lib64 ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:/usr/local/cuda/lib64"
      for lib in "$(dirname "$root")"/*/lib; do
        [[ -d "$lib" && "$lib" != "$root/lib" ]] && export LD_LIBRARY_PATH="$LD_LIBRARY_PATH:$lib"
      done
      echo "cuDNN from the pip wheel: $root"
      wheel=$("$py" -c 'import importlib.metadata as m
names = (d.metadata["Name"] or "" for d in m.distributions())
print(" ".join(sorted(n for n in names if n.startswith("nvidia-cudnn"))))' 2>/dev/null)
      nvcc_major=$(nvcc --version 2>/dev/null | sed -n 's/.*release \([0-9]*\)\..*/\1/p')
      echo "cuDNN wheel: ${wheel:-unknown}; nvcc CUDA major: ${nvcc_major:-unknown}"
      if [[ -n "$wheel" && -n "$nvcc_major" && "$wheel" != *"cu$nvcc_major"* ]]; then
        echo "device_check: WARNING: the cuDNN wheel ($wheel) is not built for CUDA $nvcc_major (nvcc):" \
             "its sub-libraries may not load; cuDNN errors below would come from that"
      fi
      break
    fi
  done
fi

PREFIX_PATH=$(IFS=';'; echo "${PREFIXES[*]:-}")
if ! timeout 60 cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DSCEALD_CUDA=ON \
      -DCMAKE_CUDA_ARCHITECTURES=90 -DSCEALD_BUILD_BENCH=OFF -DCMAKE_PREFIX_PATH="$PREFIX_PATH" "${CUDNN_ARGS[@]}" \
      >"$BUILD/configure.log" 2>&1; then
  tail -30 "$BUILD/configure.log"; echo "device_check: configuration failed"; exit 2
fi
grep -E "CUDA backend|Found CUDNN|Found TurboJPEG|Found SPNG|Found GTest|CUDA compiler identification" "$BUILD/configure.log"
if ! timeout "$(budget 260 170)" cmake --build "$BUILD" -j "$JOBS" --target sceald_gpu_tests >"$BUILD/build.log" 2>&1; then
  grep -E "error|Error" -A3 "$BUILD/build.log" | head -60; echo "device_check: build failed (log: $BUILD/build.log)"; exit 2
fi
echo "built $BUILD/tests/sceald_gpu_tests"

# ---- 2. the GPU tests
TEST_STATUS=0
if [[ "${SKIP_TESTS:-0}" != "1" ]]; then
  phase "ctest -L gpu"
  # Eight test processes at once: two OpenMP threads each for their CPU references, not sixteen.
  OMP_NUM_THREADS=2 timeout "$(budget 100 110)" ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 60 -j 8 2>&1 |
    tail -60
  TEST_STATUS=${PIPESTATUS[0]}
fi

# ---- 3a. this engine
phase "VGG16 training step, this engine (batch $SCEALD_BENCH_BATCH, $SCEALD_BENCH_STEPS steps per mode)"
SCEALD_GPU_BENCH=1 SCEALD_CUDNN_VERBOSE=1 timeout "$(budget 120 50)" "$BUILD/tests/sceald_gpu_tests" \
  --gtest_filter='GpuBench.Vgg16TrainingStep' \
  2>&1 | tee "$LOG.sceald" | grep -E "SCEALD_BENCH|memory:|Failure|error|OK|FAILED|SKIPPED"

# ---- 3b. PyTorch on the same machine
phase "VGG16 training step, PyTorch"
PYTHON=python3  # the first interpreter that has torch (Debian's python3-torch lives under /usr/bin/python3)
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null 2>&1 && timeout 30 "$candidate" -c "import torch" >/dev/null 2>&1; then
    PYTHON="$candidate"
    break
  fi
done
echo "using $(command -v "$PYTHON" || echo "$PYTHON")"
timeout "$(budget 100 5)" "$PYTHON" - >"$LOG.torch" 2>&1 <<'PY'
import os, statistics, sys, time
batch = int(os.environ["SCEALD_BENCH_BATCH"]); steps = int(os.environ["SCEALD_BENCH_STEPS"])
warmup = int(os.environ["SCEALD_BENCH_WARMUP"])
try:
    import torch
    from torch import nn
    if not torch.cuda.is_available():
        raise RuntimeError("torch.cuda.is_available() is False")
except Exception as e:  # report, do not fail the script
    for mode in ("fp32", "tf32"):
        print(f"SCEALD_BENCH engine=torch mode={mode} unavailable=1 reason={type(e).__name__}")
    print(e, file=sys.stderr)
    sys.exit(0)

def vgg16():  # torchvision's vgg16 (configuration D), written out so torchvision is not needed
    layers, c_in = [], 3
    for c in [64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0]:
        if c == 0:
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(inplace=True)]
            c_in = c
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(7), nn.Flatten(),
                         nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(0.5),
                         nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(0.5), nn.Linear(4096, 1000))

def allow_tf32(on):  # torch >= 2.9 names it fp32_precision (allow_tf32 is deprecated there)
    try:
        torch.backends.cuda.matmul.fp32_precision = "tf32" if on else "ieee"
        torch.backends.cudnn.conv.fp32_precision = "tf32" if on else "ieee"
    except (AttributeError, AssertionError):  # older torch: unknown attribute
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = on

torch.backends.cudnn.benchmark = False
print(f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}", file=sys.stderr)
for mode in ("fp32", "tf32"):
    allow_tf32(mode == "tf32")
    # Our precise (fp32) mode takes deterministic cuDNN algorithms only; ask the same of PyTorch there.
    torch.backends.cudnn.deterministic = mode == "fp32"
    torch.manual_seed(1)
    net = vgg16().cuda().train()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    x = torch.rand(batch, 3, 224, 224, device="cuda") * 2 - 1
    y = torch.randint(0, 1000, (batch,), device="cuda")
    loss_fn = nn.CrossEntropyLoss()
    def step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(net(x), y)
        loss.backward()
        opt.step()
        return loss.item()  # waits for the GPU, as the engine's step does
    for _ in range(warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step_ms = []
    for _ in range(steps):
        t0 = time.perf_counter()
        last = step()
        step_ms.append(1000 * (time.perf_counter() - t0))
    median = statistics.median(step_ms)
    peak = torch.cuda.max_memory_allocated() / 2**20
    print(f"SCEALD_BENCH engine=torch mode={mode} batch={batch} steps={steps} "
          f"images_per_s={batch / (median / 1000):.1f} step_ms={median:.1f} step_ms_min={min(step_ms):.1f} "
          f"step_ms_max={max(step_ms):.1f} peak_mib={peak:.0f} loss={last:.4f}", flush=True)
    del net, opt, x, y
    torch.cuda.empty_cache()
PY
# Algorithms passed over for these statuses point at the installation (a missing sub-library, say);
# plain NOT_SUPPORTED ones are cuDNN's normal answer for an algorithm a shape cannot use.
grep -h "^sceald: cuDNN" "$LOG.sceald" 2>/dev/null |
  grep -E "INCOMPATIBLE|ARCH_MISMATCH|PREREQUISITE|SUBLIBRARY|NOT_INITIALIZED|INTERNAL_ERROR|EXECUTION_FAILED" |
  head -5
grep -v "^SCEALD_BENCH" "$LOG.torch" | tail -5
grep "^SCEALD_BENCH" "$LOG.torch"

# ---- 4. the table, last
phase "summary (ctest exit status $TEST_STATUS)"
field() {  # field <engine> <mode> <key>: the value from the SCEALD_BENCH line, or "-"
  grep -h "^SCEALD_BENCH engine=$1 mode=$2 " "$LOG.sceald" "$LOG.torch" 2>/dev/null | head -1 |
    tr ' ' '\n' | awk -F= -v k="$3" '$1 == k { print $2; found = 1 } END { if (!found) print "-" }'
}
spread() { echo "$(field "$1" "$2" step_ms_min)-$(field "$1" "$2" step_ms_max)"; }
printf "%-5s %12s %12s %6s %15s %15s %11s %11s\n" mode "sceald img/s" "torch img/s" ratio "sceald ms range" \
  "torch ms range" "sceald MiB" "torch MiB"
for mode in fp32 tf32; do
  ours=$(field sceald "$mode" images_per_s); theirs=$(field torch "$mode" images_per_s)
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2f", a / b; else print "-" }')
  printf "%-5s %12s %12s %6s %15s %15s %11s %11s\n" "$mode" "$ours" "$theirs" "$ratio" "$(spread sceald "$mode")" \
    "$(spread torch "$mode")" "$(field sceald "$mode" peak_mib)" "$(field torch "$mode" peak_mib)"
done
echo "(batch $SCEALD_BENCH_BATCH, 224x224, median of $SCEALD_BENCH_STEPS steps timed one by one; ratio = sceald /" \
     "PyTorch images/s; ms range = fastest-slowest step; MiB = peak bytes tensors asked for;" \
     "total $(( $(date +%s) - START ))s)"
exit "$TEST_STATUS"
