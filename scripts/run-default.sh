#!/usr/bin/env bash
# Set up, build and run the default scenario. Usage: bash scripts/run-default.sh [run options]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j"$(nproc)" --target countysim
build/countysim run scenarios/taojiang-2022.yaml --force "$@"
