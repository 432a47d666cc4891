// Periodic d-dimensional cubic lattice (physics.md section 1), d = 1, 2, 3.
// Sites are numbered with x fastest: n = i + Lx (j + Ly k). Unused axes have
// length 1, so one indexing rule serves every dimension.
#pragma once

#include <cstdint>

#include "xyzmf/hd.hpp"

namespace xyzmf {

using index_t = std::int64_t;

struct Lattice {
    int dim = 2;
    index_t L[3] = {1, 1, 1};  // Lx, Ly, Lz; axes beyond dim are 1

    XYZMF_HD index_t sites() const { return L[0] * L[1] * L[2]; }

    // Distance between the x, y and z blocks of a state buffer on a backend.
    // Padded so the blocks do not start at the same offset modulo 4 KiB: with
    // power-of-two lattices they otherwise map to the same cache sets, and the
    // ~20 streams of an RK stage thrash L1 (64^3 ran 3x slower than 66^3).
    // Host states (HostState, files) are never padded.
    XYZMF_HD index_t component_stride() const {
        const index_t n = sites();
        return n < 1024 ? n : (n + 15) / 16 * 16 + 24;
    }
    XYZMF_HD int coordination() const { return 2 * dim; }
    XYZMF_HD index_t site(index_t i, index_t j, index_t k) const { return i + L[0] * (j + L[1] * k); }

    // The 2d nearest neighbours of site (i, j, k), periodic in every used axis.
    // Written once here so the CPU loops and the CUDA kernels share the topology.
    XYZMF_HD void neighbours(index_t i, index_t j, index_t k, index_t nb[6]) const {
        const index_t im = i == 0 ? L[0] - 1 : i - 1, ip = i == L[0] - 1 ? 0 : i + 1;
        nb[0] = site(im, j, k);
        nb[1] = site(ip, j, k);
        if (dim >= 2) {
            const index_t jm = j == 0 ? L[1] - 1 : j - 1, jp = j == L[1] - 1 ? 0 : j + 1;
            nb[2] = site(i, jm, k);
            nb[3] = site(i, jp, k);
        }
        if (dim >= 3) {
            const index_t km = k == 0 ? L[2] - 1 : k - 1, kp = k == L[2] - 1 ? 0 : k + 1;
            nb[4] = site(i, j, km);
            nb[5] = site(i, j, kp);
        }
    }

    // +1 on sublattice A (i + j + k even), -1 on B: the staggering of physics.md 3.3.
    XYZMF_HD static int parity(index_t i, index_t j, index_t k) { return ((i + j + k) & 1) ? -1 : 1; }
};

}  // namespace xyzmf
