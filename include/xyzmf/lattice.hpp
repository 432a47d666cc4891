// Periodic d-dimensional cubic lattice (physics.md section 1), d = 1, 2, 3.
// Sites are numbered with x fastest: n = i + Lx (j + Ly k). Unused axes have
// length 1, so one indexing rule serves every dimension.
//
// `copies` independent lattices can be stacked as the slowest axis (the
// ensemble of a batched sweep): the third index then runs over
// kk = k + Lz b, b = 0 .. copies-1, and neighbours never cross copies.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "xyzmf/hd.hpp"

namespace xyzmf {

using index_t = std::int64_t;

struct Lattice {
    int dim = 2;
    index_t L[3] = {1, 1, 1};  // Lx, Ly, Lz; axes beyond dim are 1
    index_t copies = 1;        // independent stacked lattices (batched sweeps)

    XYZMF_HD index_t sites() const { return L[0] * L[1] * L[2] * copies; }  // all copies
    XYZMF_HD index_t copy_sites() const { return L[0] * L[1] * L[2]; }
    XYZMF_HD index_t layers() const { return L[2] * copies; }  // range of the third index kk

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

    // z coordinate within its copy of the stacked third index kk.
    XYZMF_HD index_t z_of(index_t kk) const { return L[2] == 1 ? 0 : kk % L[2]; }
    XYZMF_HD index_t copy_of(index_t kk) const { return L[2] == 1 ? kk : kk / L[2]; }

    // The 2d nearest neighbours of site (i, j, kk), periodic in every used axis
    // of its own copy. Written once here so the CPU loops and the CUDA kernels
    // share the topology.
    XYZMF_HD void neighbours(index_t i, index_t j, index_t kk, index_t nb[6]) const {
        const index_t im = i == 0 ? L[0] - 1 : i - 1, ip = i == L[0] - 1 ? 0 : i + 1;
        nb[0] = site(im, j, kk);
        nb[1] = site(ip, j, kk);
        if (dim >= 2) {
            const index_t jm = j == 0 ? L[1] - 1 : j - 1, jp = j == L[1] - 1 ? 0 : j + 1;
            nb[2] = site(i, jm, kk);
            nb[3] = site(i, jp, kk);
        }
        if (dim >= 3) {
            const index_t k = z_of(kk), k0 = kk - k;
            const index_t km = k == 0 ? L[2] - 1 : k - 1, kp = k == L[2] - 1 ? 0 : k + 1;
            nb[4] = site(i, j, k0 + km);
            nb[5] = site(i, j, k0 + kp);
        }
    }

    // +1 on sublattice A (i + j + k even), -1 on B: the staggering of physics.md 3.3.
    XYZMF_HD static int parity(index_t i, index_t j, index_t k) { return ((i + j + k) & 1) ? -1 : 1; }
    XYZMF_HD int parity_at(index_t i, index_t j, index_t kk) const { return parity(i, j, z_of(kk)); }
};

// The one text form of a lattice's size: "512x256" (sides) and "512x256 (2D)"
// (what files, messages and tables show). Host only.
inline std::string lattice_sides(const Lattice& lat) {
    std::string s;
    for (int a = 0; a < lat.dim; ++a) s += (a ? "x" : "") + std::to_string(lat.L[a]);
    return s;
}
inline std::string lattice_text(const Lattice& lat) { return lattice_sides(lat) + " (" + std::to_string(lat.dim) + "D)"; }

// The wavelength 2 pi / |k| in sites of a wave vector's first `dim` components (an
// SDW's period along its k; 0 for k = 0): analyze, sweeps and stability maps alike.
inline double wavelength(const double* k, int dim) {
    double k2 = 0;
    for (int a = 0; a < dim; ++a) k2 += k[a] * k[a];
    return k2 > 0 ? 2 * 3.14159265358979323846 / std::sqrt(k2) : 0;
}

}  // namespace xyzmf
