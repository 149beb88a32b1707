#!/usr/bin/env bash
# Installs everything countysim needs from Debian 12's own packages.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config
  libeigen3-dev libyaml-cpp-dev libhdf5-dev hdf5-tools
  catch2 librandom123-dev libboost-dev libcli11-dev libfmt-dev
  libdeflate-dev  # inflating chunks, deflate levels 2-9 (src/chunk_codec.cpp)
  libisal-dev  # ISA-L: deflate level 1 in the workers, 3x libdeflate's speed (src/chunk_codec.cpp)
  python3 python3-h5py python3-numpy python3-xarray python3-h5netcdf
  python3-scipy  # independent Spearman in tests/e2e/test_explain.py
  librsvg2-bin fonts-noto-cjk
  poppler-utils  # report --pdf: pdfinfo and pdftoppm in tests/e2e/test_report.py
  chromium  # headless check of the report (tests/e2e/test_report.py)
  clang-14 libclang-rt-14-dev  # libFuzzer targets (docs/fuzzing.md)
  valgrind  # tests/e2e/test_valgrind.py: no uninitialised reads in the compressor
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing packages: ${missing[*]} (run as root, or install them)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
