#!/usr/bin/env bash
# Downloads, here, the Debian packages that the build needs and a GPU
# machine may lack, into .device-deps/ (ignored by git). The GPU machine
# that bench/device_check.sh runs on reaches no package registry, so this
# folder travels with the working tree (the device tool's `carry`), and
# device_check.sh unpacks it into a prefix of its own there, never into /.
#
# Only headers, static test libraries and two small shared libraries; the
# CUDA toolkit, cuDNN, cuBLAS and the compiler come from the machine itself.
# Usage: scripts/device-deps.sh   (about 1.2 MB, a few seconds)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/.device-deps"
packages=(libgtest-dev libgmock-dev nlohmann-json3-dev libcli11-dev
          libturbojpeg0 libturbojpeg0-dev libspng0 libspng-dev)
rm -rf "$out.tmp" && mkdir -p "$out.tmp"
download() { (cd "$out.tmp" && apt-get download -qq "${packages[@]}" 2>/dev/null); }
if ! download; then
  echo "device-deps: apt-get download failed; refreshing the package lists once"
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  download || { echo "device-deps: could not download ${packages[*]}" >&2; exit 1; }
fi
for p in "${packages[@]}"; do
  compgen -G "$out.tmp/${p}_*.deb" >/dev/null || { echo "device-deps: $p was not downloaded" >&2; exit 1; }
done
rm -rf "$out" && mv "$out.tmp" "$out"
echo "device-deps: $(ls "$out" | wc -l) packages, $(du -sh "$out" | cut -f1), in $out"
echo "carry it to the GPU machine with the device tool: carry [\".device-deps\"]"
