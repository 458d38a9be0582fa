#!/usr/bin/env bash
# Installs the Debian packages the build and tests need, only when missing
# (a fresh machine has the CUDA toolkit and compilers but not all -dev packages).
# Extra package names given as arguments are installed the same way
# (bench/compare_peers.sh asks for the peers: libopenblas0-pthread python3-torch).
set -euo pipefail

packages=(cmake ninja-build g++ pkg-config libgtest-dev libbenchmark-dev nlohmann-json3-dev libcli11-dev
          libturbojpeg0-dev libspng-dev libpng-dev "$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "install-deps: nvcc is at /usr/local/cuda/bin (add it to PATH); the build finds it there"
fi
