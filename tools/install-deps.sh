#!/usr/bin/env bash
# Installs xyzmf's build and tool dependencies from Debian's packages (Debian 12).
# Skips apt entirely when everything is already there (offline-friendly).
set -euo pipefail
pkgs=(build-essential cmake ninja-build git pkg-config libhdf5-dev zlib1g-dev libcli11-dev libfftw3-dev librandom123-dev nlohmann-json3-dev libboost-dev libeigen3-dev libspectra-dev
      googletest libgtest-dev python3 python3-numpy python3-h5py python3-matplotlib python3-qutip hdf5-tools bc strace
      python3-paraview python3-yaml xvfb xauth openmpi-bin libopenmpi-dev libfftw3-mpi-dev slurm-wlm munge
      pybind11-dev python3-dev python3-pytest python3-venv python3-pip python3-setuptools python3-wheel python3-xarray jupyter-nbconvert python3-nbclient python3-ipykernel)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "xyzmf: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
