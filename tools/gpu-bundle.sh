#!/usr/bin/env bash
# Packs what tools/gpu-check.sh needs on a lent GPU machine into one file to carry there.
# That machine's image has CUDA and Python (JAX, CuPy, h5py) but none of Debian's HDF5,
# FFTW, zlib or OpenMPI, and its processor may lack this one's instructions; a session
# has 15 minutes of it, so the bundle is built and checked here:
#
#   tools/gpu-bundle.sh              # -> .gpu/bundle.tar.gz (about 20 MB), .gpu in .gitignore
#
# and used there in one call of the device tool, with carry [".gpu"] (or
# tools/gpu-bundle.sh --print-command, which prints that command):
#
#   tar xzf .gpu/bundle.tar.gz -C /tmp && /tmp/xyzmf-gpu/run tools/gpu-check.sh $OUT/gpu-check
#
# Inside: bin/xyzmf and bin/xyzmf_tests, built portable (no -march=native; CUDA sm_90, the
# H100 and H200) with the MPI layer, whose DT_RPATH ($ORIGIN/../lib) finds every library
# they load in lib/ (all but glibc's own, which is older here than there); OpenMPI's
# launcher with the plugins a one-node run uses and PMIx's, found through OPAL_* and PMIX_*
# (bin/mpirun); HDF5's h5diff (bin/h5diff); `run`, which runs one of the checkout's device
# scripts on bin/. Only the wrapped programs see lib/: Python there keeps its own.
#
# --selftest unpacks the bundle into a mount namespace where the Debian libraries it holds,
# OpenMPI's and PMIx's folders are hidden (root only), and runs xyzmf, xyzmf_tests --gtest_list_tests,
# h5diff and a 2-rank mpirun there: what would fail there for want of a library fails here.
set -euo pipefail
cd "$(dirname "$0")/.."
mode=${1:-pack}
OUT=.gpu
BUILD=build-gpu
NAME=xyzmf-gpu
A=x86_64-linux-gnu

# glibc's libraries: the machine's own are used (never older than Debian 12's 2.36).
is_glibc() { [[ $(basename "$1") =~ ^(libc|libm|libpthread|libdl|librt|libresolv|libutil|libanl|ld-linux-x86-64)\.so ]]; }
# The shared libraries a program or plugin loads, resolved here, glibc's left out.
deps_of() {
    ldd "$1" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | while read -r lib; do
        is_glibc "$lib" || echo "$lib"
    done
}
# OpenMPI plugins that need fabrics this machine kind has none of (InfiniBand, UCX, OFI,
# PSM) or OpenSHMEM: left out, so OpenMPI never tries to open them.
unwanted_plugin() { ldd "$1" | grep -qE 'lib(ucp|uct|ucs|ucm|fabric|ibverbs|rdmacm|psm|oshmem|mca_common_(ucx|ofi|verbs))'; }

print_command() {
    echo 'device run, carry [".gpu"], timeout_s 540:'
    echo "  tar xzf .gpu/bundle.tar.gz -C /tmp && GPU_CHECK_BUDGET=300 /tmp/$NAME/run tools/gpu-check.sh \$OUT/gpu-check"
    echo "  (or /tmp/$NAME/run tools/gpu-stream-tune.sh \$OUT/tune for the streaming kernel's variants)"
}

pack() {
    # build-gpu/: about 8 minutes on 2 cores the first time, incremental after. DT_RPATH
    # (--disable-new-dtags), not DT_RUNPATH: it also serves the libraries' own dependencies.
    mkdir -p $OUT
    local log=$OUT/build.log
    {
        cmake -S . -B $BUILD -DCMAKE_BUILD_TYPE=Release -DXYZMF_NATIVE=OFF -DCMAKE_CUDA_ARCHITECTURES=90 \
            -DXYZMF_MPI=ON -DXYZMF_PYTHON=OFF '-DCMAKE_BUILD_RPATH=$ORIGIN/../lib' \
            -DCMAKE_EXE_LINKER_FLAGS=-Wl,--disable-new-dtags >"$log" 2>&1 || { cat "$log"; exit 1; }
        cmake --build $BUILD -j"$(nproc)" --target xyzmf xyzmf_tests >>"$log" 2>&1 ||
            { grep -E 'error' "$log" | head -20; exit 1; }
    }
    readelf -d $BUILD/xyzmf | grep -q 'RPATH.*\$ORIGIN/../lib' || { echo "gpu-bundle: $BUILD/xyzmf has no DT_RPATH \$ORIGIN/../lib" >&2; exit 1; }
    ldd $BUILD/xyzmf | grep -q libcudart || { echo "gpu-bundle: $BUILD/xyzmf was built without CUDA (no nvcc?)" >&2; exit 1; }
    local stage B
    stage=$(mktemp -d)
    B=$stage/$NAME
    mkdir -p "$B"/{bin,lib,libexec} "$B/openmpi/plugins" "$B/openmpi/share" "$B/openmpi/etc" "$B/pmix/plugins" "$B/pmix/share"
    cp $BUILD/xyzmf $BUILD/tests/xyzmf_tests "$B/bin/"
    strip --strip-unneeded "$B/bin/xyzmf" "$B/bin/xyzmf_tests"
    cp "$(readlink -f /usr/bin/orterun)" "$B/libexec/orterun"
    cp "$(readlink -f /usr/bin/h5diff)" "$B/libexec/h5diff"
    local p
    for p in /usr/lib/$A/openmpi/lib/openmpi3/mca_*.so; do
        unwanted_plugin "$p" || cp "$p" "$B/openmpi/plugins/"
    done
    cp /usr/lib/$A/pmix2/lib/pmix/*.so "$B/pmix/plugins/"
    cp -r /usr/share/openmpi/. "$B/openmpi/share/"
    cp -r /usr/lib/$A/pmix2/share/pmix/. "$B/pmix/share/"
    cp /etc/openmpi/openmpi-mca-params.conf "$B/openmpi/etc/"
    # Every library any of them loads, and theirs (ldd lists the whole closure).
    { for f in "$B"/bin/* "$B"/libexec/* "$B"/openmpi/plugins/* "$B"/pmix/plugins/*; do deps_of "$f"; done; } |
        sort -u | while read -r lib; do cp -L "$lib" "$B/lib/"; done
    # OpenMPI's libraries and plugins carry a DT_RUNPATH (Debian's openmpi/lib), which
    # would keep the programs' DT_RPATH from serving their dependencies: it becomes a
    # DT_RPATH itself (one tag in each dynamic section), and the search goes on to
    # $ORIGIN/../lib.
    /usr/bin/python3 - "$B"/lib/* "$B"/openmpi/plugins/* "$B"/pmix/plugins/* <<'EOF'
import struct, sys
DT_RPATH, DT_RUNPATH, PT_DYNAMIC = 15, 29, 2
for path in sys.argv[1:]:
    with open(path, "r+b") as f:
        elf = f.read()
        if elf[:4] != b"\x7fELF" or elf[4] != 2:  # 64-bit ELF only
            continue
        phoff, = struct.unpack_from("<Q", elf, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
        for i in range(phnum):
            ptype, = struct.unpack_from("<I", elf, phoff + i * phentsize)
            if ptype != PT_DYNAMIC:
                continue
            off, = struct.unpack_from("<Q", elf, phoff + i * phentsize + 8)
            size, = struct.unpack_from("<Q", elf, phoff + i * phentsize + 32)
            for e in range(off, off + size, 16):
                tag, = struct.unpack_from("<q", elf, e)
                if tag == DT_RUNPATH:
                    f.seek(e)
                    f.write(struct.pack("<q", DT_RPATH))
EOF
    # The two launchers and the check, each setting up only its own process tree.
    cat >"$B/bin/mpirun" <<'EOF'
#!/usr/bin/env bash
# OpenMPI 4.1 (Debian 12) from this bundle: its libraries, plugins and help texts.
B=$(cd "$(dirname "$0")/.." && pwd)
export LD_LIBRARY_PATH=$B/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export OPAL_PREFIX=$B/openmpi OPAL_BINDIR=$B/libexec OPAL_LIBDIR=$B/lib OPAL_PKGLIBDIR=$B/openmpi/plugins \
    OPAL_DATADIR=$B/openmpi/share OPAL_PKGDATADIR=$B/openmpi/share OPAL_SYSCONFDIR=$B/openmpi/etc
export PMIX_PREFIX=$B/pmix PMIX_LIBDIR=$B/lib PMIX_PKGLIBDIR=$B/pmix/plugins PMIX_DATADIR=$B/pmix/share \
    PMIX_PKGDATADIR=$B/pmix/share PMIX_MCA_mca_base_component_path=$B/pmix/plugins
export OMPI_MCA_mca_base_component_path=$B/openmpi/plugins
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# Shared memory between ranks without cross-memory attach, which containers and VMs
# often forbid (ptrace): copies through /dev/shm instead.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
exec "$B/libexec/orterun" "$@"
EOF
    cat >"$B/bin/h5diff" <<'EOF'
#!/usr/bin/env bash
B=$(cd "$(dirname "$0")/.." && pwd)
LD_LIBRARY_PATH=$B/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} exec "$B/libexec/h5diff" "$@"
EOF
    cat >"$B/run" <<'EOF'
#!/usr/bin/env bash
# run TOOL [OUT_DIR]: one of the checkout's device scripts (tools/gpu-check.sh,
# tools/gpu-stream-tune.sh) on this bundle's programs, its mpirun and h5diff first in PATH.
B=$(cd "$(dirname "$0")" && pwd)
export PATH=$B/bin:$PATH
# cuFFT (270 MB) is not carried: xyzmf opens the machine's own for --analysis-backend
# cuda, the one XYZMF_CUFFT names (src/backends/analysis_cuda.cpp).
if [[ -z ${XYZMF_CUFFT:-} ]]; then
    for f in /usr/local/cuda/lib64/libcufft.so.12 /usr/local/cuda/targets/x86_64-linux/lib/libcufft.so.12 \
        /usr/local/cuda-*/lib64/libcufft.so.12 $(timeout 30 find /usr /opt -name libcufft.so.12 2>/dev/null); do
        [[ -e $f ]] && { export XYZMF_CUFFT=$f; break; }
    done
fi
exec bash "$1" "$B/bin" "${2:-gpu-check}"
EOF
    chmod +x "$B"/bin/* "$B"/run
    local rev
    rev=$(git describe --always --dirty)
    echo "$rev" >"$B/REVISION"
    tar czf $OUT/bundle.tar.gz -C "$stage" $NAME
    rm -rf "$stage"
    echo "gpu-bundle: $OUT/bundle.tar.gz, $(du -m $OUT/bundle.tar.gz | cut -f1) MB, programs built at $rev"
    print_command
}

selftest() {
    [[ $(id -u) == 0 ]] || { echo "gpu-bundle --selftest: needs root (mount namespace)" >&2; exit 1; }
    local T
    T=$(mktemp -d)
    tar xzf $OUT/bundle.tar.gz -C "$T"
    # Hide, in a private mount namespace, every Debian library the bundle carries and the
    # folders OpenMPI and PMIx would look in: an empty file over each (loading it fails).
    # (A script file, not stdin: mpirun reads its standard input.)
    cat >"$T/selftest.sh" <<'EOF'
B=$1
empty=$(mktemp); emptydir=$(mktemp -d)
for l in "$B"/lib/*; do
    for sys in /usr/lib/x86_64-linux-gnu/$(basename "$l") /usr/local/cuda/lib/$(basename "$l"); do
        [[ -e $sys ]] && mount --bind "$empty" "$sys"
    done
done
for d in /usr/lib/x86_64-linux-gnu/{openmpi,pmix2,hwloc} /usr/share/openmpi /etc/openmpi; do
    [[ -e $d ]] && mount --bind "$emptydir" "$d"
done
cd "$(mktemp -d)"
"$B/bin/xyzmf" --version
"$B/bin/xyzmf_tests" --gtest_list_tests | tail -1
"$B/bin/xyzmf" run --backend cpu --size 64x33 --t-end 1 --snapshot-every 0.5 --seed 3 -q -o serial.h5
OMP_NUM_THREADS=1 "$B/bin/mpirun" --oversubscribe -np 2 "$B/bin/xyzmf" run --backend cpu --size 64x33 --t-end 1 \
    --snapshot-every 0.5 --seed 3 -q -o ranks.h5
"$B/bin/h5diff" serial.h5 ranks.h5 /final /final && "$B/bin/h5diff" serial.h5 ranks.h5 /snapshots /snapshots
echo "gpu-bundle selftest: xyzmf, xyzmf_tests, mpirun -np 2 and h5diff ran on the bundle's libraries alone; 2 ranks equal 1"
EOF
    unshare -m bash -euo pipefail "$T/selftest.sh" "$T/$NAME" </dev/null
    rm -rf "$T"
}

case $mode in
    pack) pack ;;
    --selftest) selftest ;;
    --print-command) print_command ;;
    *) echo "usage: tools/gpu-bundle.sh [--selftest | --print-command]" >&2; exit 2 ;;
esac
