// Plaquette winding of the sXY phase field (see vortices.hpp, physics.md section 5).
#include "vortices.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "xyzmf/error.hpp"
#include "xyzmf/sxy_winding.hpp"

namespace xyzmf {
namespace {

// Union-find for connecting pierced plaquettes into lines.
struct DisjointSets {
    std::vector<std::int64_t> parent;
    explicit DisjointSets(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
    std::int64_t find(std::int64_t a) {
        while (parent[a] != a) a = parent[a] = parent[parent[a]];
        return a;
    }
    void join(std::int64_t a, std::int64_t b) { parent[find(a)] = find(b); }
};

// psi of rows [first, first + rows) of the slowest axis (periodic), from
// their spins: x and y of local site n at x[n], y[n].
// Into psi, whose capacity is reused.
void phase_of_rows(const Lattice& lat, const Couplings& c, const double* x, const double* y, index_t first, index_t rows,
                   double min_amplitude, std::vector<double>& psi) {
    const int slow = lat.dim - 1;
    const index_t row_sites = lat.sites() / lat.L[slow];
    // Room for one more row: census_of_phase appends the first row there
    // without moving the field (at 2048^2 a move was a 32 MB copy and its page faults).
    psi.reserve(std::size_t((rows + 1) * row_sites));
    psi.resize(std::size_t(rows * row_sites));
#pragma omp parallel for schedule(static) if (rows * row_sites >= 32768)  // (small: DTWA, every trajectory)
    for (index_t kl = 0; kl < rows; ++kl)
        for (index_t f = 0; f < row_sites; ++f) {
            const index_t n = kl * row_sites + f;
            index_t p[3] = {f % lat.L[0], lat.dim == 3 ? f / lat.L[0] : 0, 0};
            p[slow] = (first + kl) % lat.L[slow];
            psi[std::size_t(n)] = sxy_phase(x[n], y[n], Lattice::parity(p[0], p[1], p[2]) > 0, c.Jx, c.Jy, min_amplitude);
        }
}

void check_vortex_lattice(const Lattice& lat, const Couplings& c) {
    if (lat.dim < 2) throw Error("vortices need a 2D or 3D lattice", exit_code::usage);
    if (c.Jx * c.Jy == 0)
        throw Error("vortices: the sXY phase field needs Jx Jy != 0 (physics.md section 5)", exit_code::usage);
}
}  // namespace

void fill_sxy_phase_field(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude,
                          std::vector<double>& psi) {
    const index_t N = lat.sites();
    phase_of_rows(lat, c, s.data(), s.data() + N, 0, lat.L[lat.dim - 1], min_amplitude, psi);
}

std::vector<double> sxy_phase_field(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude) {
    std::vector<double> psi;
    fill_sxy_phase_field(lat, c, s, min_amplitude, psi);
    return psi;
}

std::vector<double> sxy_phase_rows(const Lattice& lat, const Couplings& c, const HostState& rows_state, index_t first,
                                   index_t rows, double min_amplitude) {
    const index_t n = rows * (lat.sites() / lat.L[lat.dim - 1]);
    std::vector<double> psi;
    phase_of_rows(lat, c, rows_state.data(), rows_state.data() + n, first, rows, min_amplitude, psi);
    return psi;
}

namespace {

// The plaquettes of normal na based in rows [k0, k1) of the rows [first, first + rows) that psi holds.
void count_plaquettes_of(const Lattice& lat, const double* psi, index_t first, int na, index_t k0, index_t k1,
                         VortexCensus& v) {
    const int slow = lat.dim - 1;
    const index_t row_sites = lat.sites() / lat.L[slow];
    // Plaquette (normal na, base site p0) spans axes u = na+1, w = na+2 (mod 3);
    // corners p0, p0+u, p0+u+w, p0+w: counter-clockwise seen from +na.
    // 2D has only xy plaquettes (normal z); 3D has all three orientations.
    // Along the slowest axis a corner is one row further in psi (its extra
    // last row), along the others it wraps around the lattice.
    const int u = (na + 1) % 3, w = (na + 2) % 3;
    // A step along axis a from coordinate c on it, in psi's indices: the next
    // row along the slowest axis, else the next site, wrapping at the edge.
    auto step = [&](int a, index_t c) -> index_t {
        if (a == slow) return row_sites;
        const index_t stride = a == 0 ? 1 : lat.L[0];
        return c + 1 == lat.L[a] ? -(lat.L[a] - 1) * stride : stride;
    };
    for (index_t kl = k0; kl < k1; ++kl)
        for (index_t f = 0; f < row_sites; ++f) {
            index_t p0[3] = {f % lat.L[0], lat.dim == 3 ? f / lat.L[0] : 0, 0};
            const index_t su = step(u, p0[u]), sw = step(w, p0[w]);  // (the slowest axis's p0 unused)
            p0[slow] = first + kl;
            const index_t c0 = kl * row_sites + f;
            const double around[4] = {psi[c0], psi[c0 + su], psi[c0 + su + sw], psi[c0 + sw]};
            ++v.plaquettes;
            const PlaquetteWinding pw = plaquette_winding(around);
            if (pw.skipped) { ++v.skipped; continue; }
            const int wnd = pw.winding;
            if (wnd == 0) continue;
            (wnd > 0 ? v.vortices : v.antivortices) += std::abs(wnd);
            Vortex vx;
            for (int d = 0; d < 3; ++d) vx.pos[d] = double(p0[d]);
            vx.pos[u] += 0.5;
            vx.pos[w] += 0.5;
            vx.normal = na;
            vx.charge = wnd;
            v.list.push_back(vx);
        }
}

}  // namespace

VortexCensus count_plaquettes(const Lattice& lat, const double* psi, index_t first, index_t rows) {
    // Blocks of rows on every thread, joined in order: the list is the serial one.
    const index_t blocks = std::min<index_t>(rows, 64);
    const bool parallel = rows * (lat.sites() / lat.L[lat.dim - 1]) >= 32768;  // as sxy_phase_rows
    VortexCensus v;
    for (int na = lat.dim == 3 ? 0 : 2; na < 3; ++na) {
        std::vector<VortexCensus> part(static_cast<std::size_t>(blocks));
#pragma omp parallel for schedule(dynamic) if (parallel)
        for (index_t b = 0; b < blocks; ++b)
            count_plaquettes_of(lat, psi, first, na, rows * b / blocks, rows * (b + 1) / blocks, part[std::size_t(b)]);
        std::size_t listed = v.list.size();
        for (const VortexCensus& p : part) listed += p.list.size();
        v.list.reserve(listed);  // once (by doubling, a random 2048^2 state's list was reallocated 20 times)
        for (const VortexCensus& p : part) {
            v.plaquettes += p.plaquettes;
            v.skipped += p.skipped;
            v.vortices += p.vortices;
            v.antivortices += p.antivortices;
            v.list.insert(v.list.end(), p.list.begin(), p.list.end());
        }
    }
    return v;
}

void join_vortex_lines(const Lattice& lat, VortexCensus& v) {
    // A line through a unit cube enters and leaves through two of its six
    // faces: join the pierced faces of every cube. Face (normal a, base q)
    // bounds the cubes based at q and at q - e_a.
    v.pierced = std::int64_t(v.list.size());
    DisjointSets sets(v.list.size());
    std::vector<std::int64_t> first_face(std::size_t(lat.sites()), -1);  // cube's base site -> a pierced face of it
    for (std::size_t id = 0; id < v.list.size(); ++id) {
        const Vortex& x = v.list[id];
        index_t q[3];
        for (int d = 0; d < 3; ++d) q[d] = index_t(std::floor(x.pos[d]));  // the base: pos less the halves
        for (int side = 0; side < 2; ++side) {
            index_t c[3] = {q[0], q[1], q[2]};
            if (side == 1) c[x.normal] = (c[x.normal] + lat.L[x.normal] - 1) % lat.L[x.normal];
            std::int64_t& first = first_face[std::size_t(lat.site(c[0], c[1], c[2]))];
            if (first < 0) first = std::int64_t(id); else sets.join(std::int64_t(id), first);
        }
    }
    v.lines = 0;
    for (std::size_t q = 0; q < v.list.size(); ++q) v.lines += sets.find(std::int64_t(q)) == std::int64_t(q);
}

VortexCensus census_from_windings(const Lattice& lat, std::int64_t plaquettes, std::int64_t skipped,
                                  const std::vector<std::int64_t>& wound, const std::vector<int>& winding) {
    if (wound.size() != winding.size()) throw Error("vortex census: " + std::to_string(wound.size()) + " plaquettes but " +
                                                    std::to_string(winding.size()) + " windings (internal error)");
    VortexCensus v;
    v.plaquettes = plaquettes;
    v.skipped = skipped;
    v.list.reserve(wound.size());
    for (std::size_t i = 0; i < wound.size(); ++i) {
        index_t base[3], corner[4];
        Vortex x;
        x.normal = plaquette_corners(lat, wound[i], base, corner);
        x.charge = winding[i];
        for (int d = 0; d < 3; ++d) x.pos[d] = double(base[d]);
        x.pos[(x.normal + 1) % 3] += 0.5;
        x.pos[(x.normal + 2) % 3] += 0.5;
        (x.charge > 0 ? v.vortices : v.antivortices) += std::abs(x.charge);
        v.list.push_back(x);
    }
    if (lat.dim == 3) join_vortex_lines(lat, v);
    return v;
}

VortexCensus census_of_phase(const Lattice& lat, std::vector<double>& psi) {
    if (lat.dim < 2) throw Error("vortices need a 2D or 3D lattice", exit_code::usage);
    const index_t N = lat.sites(), row_sites = N / lat.L[lat.dim - 1];
    if (index_t(psi.size()) != N) throw Error("vortex census: a phase field of " + std::to_string(psi.size()) +
                                              " values for " + std::to_string(N) + " sites (internal error)");
    psi.insert(psi.end(), psi.begin(), psi.begin() + row_sites);  // the row after the last: the first
    VortexCensus v = count_plaquettes(lat, psi.data(), 0, lat.L[lat.dim - 1]);
    psi.resize(std::size_t(N));
    if (lat.dim == 3) join_vortex_lines(lat, v);
    return v;
}

VortexCensus find_vortices(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude) {
    check_vortex_lattice(lat, c);
    std::vector<double> psi = sxy_phase_field(lat, c, s, min_amplitude);
    return census_of_phase(lat, psi);
}

}  // namespace xyzmf
