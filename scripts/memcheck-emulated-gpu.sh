#!/usr/bin/env bash
# The emulated-GPU memcheck: scripts/memcheck.sh emulated-gpu (see there).
exec "$(cd "$(dirname "$0")" && pwd)/memcheck.sh" emulated-gpu "$@"
