// The k-grid as both structure-factor paths read it: the host's full grid
// (src/analysis/spectrum_summary.cpp) and a device's real-to-complex half
// spectrum (kernels/analysis_kernels.cu). Written once, so that the radial
// bins hold the same grid points and the mirrors -k are the same points on
// both, and the device's reduced spectrum is the host's to roundoff.
//
// Grid index m = mx + Lx (my + Ly mz), k_a = 2 pi m_a / L_a (structure_factor.hpp).
// The half spectrum keeps the columns mx in [0, Lx/2]; a point whose mirror
// (-k) lies outside those columns stands for two grid points of equal S(k).
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "xyzmf/hd.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

// How many of a spectrum's strongest points a summary keeps.
constexpr int kStrongestPoints = 8;

// Columns of the half spectrum: kx in [0, Lx/2].
XYZMF_HD index_t half_columns(const Lattice& lat) { return lat.L[0] / 2 + 1; }

// Whether the half-spectrum points of column mx have their mirror outside the
// half (the mirror of column 0, and of Lx/2 for even Lx, is computed itself).
XYZMF_HD bool mirror_outside_half(index_t mx, index_t Lx) { return mx > 0 && Lx - mx >= Lx / 2 + 1; }

// Coordinate along an axis of length L of the mirror of coordinate c.
XYZMF_HD index_t mirror_coord(index_t c, index_t L) { return (L - c) % L; }

// Width of a radial |k| bin, 2 pi / max(L), and the number of bins (bin b
// covers [b, b + 1) widths; the last ones may stay empty).
XYZMF_HD double radial_bin_width(const Lattice& lat) {
    index_t Lmax = 1;
    for (int a = 0; a < lat.dim; ++a) Lmax = Lmax > lat.L[a] ? Lmax : lat.L[a];
    return 2 * M_PI / double(Lmax);
}
XYZMF_HD index_t radial_bin_count(const Lattice& lat) {
    using std::sqrt;
    return index_t(M_PI * sqrt(double(lat.dim)) / radial_bin_width(lat)) + 2;
}

// The radial bin of the grid point with coordinates (cx, cy, cz): |k| of its
// minimal image in widths dk = 2 pi / Lmax, rounded down. Computed exactly, in
// integers: |k| / dk = sqrt(sum_a (m_a Lmax / L_a)^2) = sqrt(U) / P with
// P = prod_a L_a and U = sum_a (m_a Lmax P / L_a)^2, so floor(isqrt(U) / P).
// In floating point, points with |k| a whole number of widths (k = (3, 4) dk)
// fell into one bin or the next depending on how the compiler fused the
// multiply-adds, and a device's bin counts differed from the host's.
XYZMF_HD index_t radial_bin(const Lattice& lat, index_t cx, index_t cy, index_t cz) {
    using std::sqrt;
    using u128 = unsigned __int128;
    const index_t c[3] = {cx, cy, cz};
    index_t Lmax = 1, P = 1;
    bool cubic = true;  // every used axis as long as the first: then |k| / dk = sqrt(sum_a m_a^2)
    for (int a = 0; a < lat.dim; ++a) {
        Lmax = Lmax > lat.L[a] ? Lmax : lat.L[a];
        P *= lat.L[a];
        cubic = cubic && lat.L[a] == lat.L[0];
    }
    u128 U = 0;
    for (int a = 0; a < lat.dim; ++a) {
        index_t m = c[a];
        if (2 * m > lat.L[a]) m -= lat.L[a];
        const u128 u = cubic ? u128(m < 0 ? -m : m) : u128(m < 0 ? -m : m) * u128(Lmax) * u128(P / lat.L[a]);
        U += u * u;
    }
    // isqrt(U) (below 2^62): a double estimate (U split in 64-bit halves), corrected.
    const double estimate = sqrt(double(std::uint64_t(U >> 64)) * 18446744073709551616.0 + double(std::uint64_t(U)));
    std::uint64_t r = std::uint64_t(estimate);
    while (u128(r) * r > U) --r;
    while (u128(r + 1) * (r + 1) <= U) ++r;
    return index_t(cubic ? r : r / std::uint64_t(P));
}

// Grid coordinates of point e of the half spectrum (Ly Lz rows of
// half_columns, x fastest).
XYZMF_HD void half_point_coords(const Lattice& lat, index_t e, index_t c[3]) {
    const index_t H = half_columns(lat), row = e / H;
    c[0] = e % H;
    c[1] = row % lat.L[1];
    c[2] = row / lat.L[1];
}

// The grid index that ranks half-spectrum point e among equal values: its own,
// or its mirror's where that is smaller and outside the half (the full grid
// holds both, and ranks equal values by index).
XYZMF_HD index_t half_point_key(const Lattice& lat, index_t e) {
    index_t c[3];
    half_point_coords(lat, e, c);
    const index_t own = lat.site(c[0], c[1], c[2]);
    if (!mirror_outside_half(c[0], lat.L[0])) return own;
    const index_t mirror =
        lat.site(mirror_coord(c[0], lat.L[0]), mirror_coord(c[1], lat.L[1]), mirror_coord(c[2], lat.L[2]));
    return mirror < own ? mirror : own;
}

// S_perp = Sxx + Syy of point e from |F|^2 of x and y (not yet divided by N),
// in the host's order of operations (structure_factor.cpp).
XYZMF_HD double perp_at(const double* px, const double* py, index_t e, index_t N) {
    return px[e] / double(N) + py[e] / double(N);
}

// The half-spectrum point a key (half_point_key) names: the key's own grid
// point, or its mirror's where the key lies outside the half.
XYZMF_HD index_t half_point_of_key(const Lattice& lat, index_t key) {
    const index_t Lx = lat.L[0], Ly = lat.L[1], Lz = lat.L[2], H = half_columns(lat);
    index_t x = key % Lx, y = (key / Lx) % Ly, z = key / (Lx * Ly);
    if (x >= H) x = mirror_coord(x, Lx), y = mirror_coord(y, Ly), z = mirror_coord(z, Lz);
    return (y + Ly * z) * H + x;
}
// The grid index of half-spectrum point e.
XYZMF_HD index_t grid_index_of_half_point(const Lattice& lat, index_t e) {
    index_t c[3];
    half_point_coords(lat, e, c);
    return lat.site(c[0], c[1], c[2]);
}
// How many grid points half-spectrum point e stands for: 2 where its mirror
// lies outside the half, else 1.
XYZMF_HD int grid_points_of(const Lattice& lat, index_t e) {
    return mirror_outside_half(e % half_columns(lat), lat.L[0]) ? 2 : 1;
}
// The half-spectrum point holding the mirror of point e where that lies in the
// half too (columns 0 and, for even Lx, Lx/2: its S_perp is computed, equal
// to e's only to roundoff), or -1 where the mirror is outside (e's own value).
XYZMF_HD index_t inner_mirror_point(const Lattice& lat, index_t e) {
    index_t c[3];
    half_point_coords(lat, e, c);
    if (mirror_outside_half(c[0], lat.L[0])) return -1;
    return (mirror_coord(c[1], lat.L[1]) + lat.L[1] * mirror_coord(c[2], lat.L[2])) * half_columns(lat) + c[0];
}
// The half-spectrum point at (Lx/2, Ly/2, Lz/2): k = pi where every axis is even.
XYZMF_HD index_t half_point_pi(const Lattice& lat) {
    return (lat.L[1] / 2 + lat.L[1] * (lat.L[2] / 2)) * half_columns(lat) + lat.L[0] / 2;
}

// The marginal of S_perp along axis a at coordinate b, as a sum of
// marginal_terms(lat, a) terms o = 0, 1, ...: the half-spectrum points with
// coordinate b on that axis, and those whose mirror (outside the half) has
// it. Along x, b < Lx/2 + 1 is column b, and b beyond it the mirrors of
// column Lx - b; along y (z), term o is column o % H of plane z (row y)
// o / H, and its mirror's contribution.
XYZMF_HD index_t marginal_terms(const Lattice& lat, int a) {
    const index_t H = half_columns(lat);
    return a == 0 ? lat.L[1] * lat.L[2] : a == 1 ? H * lat.L[2] : H * lat.L[1];
}
XYZMF_HD double marginal_term(const double* px, const double* py, const Lattice& lat, int a, index_t b, index_t o) {
    const index_t N = lat.sites(), H = half_columns(lat), Lx = lat.L[0], Ly = lat.L[1], Lz = lat.L[2];
    if (a == 0) return perp_at(px, py, o * H + (b < H ? b : Lx - b), N);
    const index_t x = o % H, rest = o / H;
    double v = perp_at(px, py, a == 1 ? (b + Ly * rest) * H + x : (rest + Ly * b) * H + x, N);
    if (mirror_outside_half(x, Lx))
        v += perp_at(px, py, a == 1 ? (mirror_coord(b, Ly) + Ly * rest) * H + x : (rest + Ly * mirror_coord(b, Lz)) * H + x, N);
    return v;
}

// Up to K points of largest value, then smallest key (half_point_key), in
// that order: what one device thread, then one block, then the grid keeps of
// a spectrum's strongest points. The order is total, so the result does not
// depend on the order the points are offered in.
template <int K>
struct StrongestPoints {
    double value[K];
    index_t key[K];
    int count;

    XYZMF_HD static bool before(double v, index_t k, double v2, index_t k2) { return v > v2 || (v == v2 && k < k2); }
    XYZMF_HD void clear() { count = 0; }
    XYZMF_HD void offer(double v, index_t k) {
        if (count == K && !before(v, k, value[K - 1], key[K - 1])) return;
        int i = count < K ? count++ : K - 1;
        for (; i > 0 && before(v, k, value[i - 1], key[i - 1]); --i) {
            value[i] = value[i - 1];
            key[i] = key[i - 1];
        }
        value[i] = v;
        key[i] = k;
    }
};

// A spectrum's summary as a reduction of its half spectrum gives it (a CUDA
// device's, include/xyzmf/device_analysis.hpp, or MPI ranks' each over its
// block, src/mpi/slab_analysis.cpp); src/analysis/spectrum_summary.hpp builds
// the host's SpectrumSummary from it: S_perp's sum, its strongest half-spectrum
// points, its values at k = 0 and pi, marginals, radial sums.
struct ReducedSpectrum {
    struct Point {
        double value = 0;         // S_perp
        std::int64_t key = 0;     // half_point_key (spectrum_geometry.hpp), which names the point
        double mirror_value = 0;  // S_perp at its mirror, where that is in the half spectrum too
    };
    double total_perp = 0, perp_k0 = 0, perp_kpi = 0;
    std::vector<Point> strongest;           // up to SpectrumSummary::kStrongest half-spectrum points, strongest first
    std::vector<double> marginal[3];        // S_perp summed over the other axes, along each used axis
    std::vector<double> radial_sum[3];      // sum of S_aa over each radial bin's grid points (when asked for)
    std::vector<double> radial_count;       // grid points per bin (when asked for)
};

// The half-spectrum points of each radial bin, ascending within a bin (a
// counting sort by bin): bin b's are order[offsets[b] .. offsets[b + 1]), and
// count[b] grid points lie in it (a point counts twice where its mirror is
// outside the half). Host code; a device reduces bin by bin over it.
struct RadialLayout {
    std::vector<int> order, offsets;
    std::vector<double> count;
};
inline RadialLayout radial_layout(const Lattice& lat) {
    const index_t bins = radial_bin_count(lat), points = lat.sites() / lat.L[0] * half_columns(lat);
    RadialLayout r;
    std::vector<int> bin(static_cast<std::size_t>(points));
    r.offsets.assign(std::size_t(bins + 1), 0);
    r.count.assign(std::size_t(bins), 0.0);
    for (index_t e = 0; e < points; ++e) {
        index_t c[3];
        half_point_coords(lat, e, c);
        const index_t b = radial_bin(lat, c[0], c[1], c[2]);
        bin[std::size_t(e)] = int(b);
        ++r.offsets[std::size_t(b + 1)];
        r.count[std::size_t(b)] += grid_points_of(lat, e);
    }
    for (index_t b = 0; b < bins; ++b) r.offsets[std::size_t(b + 1)] += r.offsets[std::size_t(b)];
    r.order.resize(std::size_t(points));
    std::vector<int> next(r.offsets.begin(), r.offsets.end() - 1);
    for (index_t e = 0; e < points; ++e) r.order[std::size_t(next[std::size_t(bin[std::size_t(e)])]++)] = int(e);
    return r;
}

}  // namespace xyzmf
