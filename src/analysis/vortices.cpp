// Plaquette winding of the sXY phase field (see vortices.hpp, physics.md section 5).
#include "vortices.hpp"

#include <cmath>
#include <numeric>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

double wrap(double d) {  // into (-pi, pi]
    while (d > M_PI) d -= 2 * M_PI;
    while (d <= -M_PI) d += 2 * M_PI;
    return d;
}

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

}  // namespace

std::vector<double> sxy_phase_field(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude) {
    const index_t N = lat.sites();
    std::vector<double> psi(static_cast<std::size_t>(N));
    for (index_t k = 0; k < lat.L[2]; ++k)
        for (index_t j = 0; j < lat.L[1]; ++j)
            for (index_t i = 0; i < lat.L[0]; ++i) {
                const index_t n = lat.site(i, j, k);
                const double x = s[n], y = s[N + n];
                if (std::hypot(x, y) < min_amplitude) {
                    psi[n] = NAN;
                } else {
                    psi[n] = Lattice::parity(i, j, k) > 0 ? std::atan2(y, x) : std::atan2(c.Jx * x, -c.Jy * y);
                }
            }
    return psi;
}

VortexCensus find_vortices(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude) {
    if (lat.dim < 2) throw Error("vortices need a 2D or 3D lattice", exit_code::usage);
    if (c.Jx * c.Jy == 0)
        throw Error("vortices: the sXY phase field needs Jx Jy != 0 (physics.md section 5)", exit_code::usage);
    const std::vector<double> psi = sxy_phase_field(lat, c, s, min_amplitude);
    const index_t L[3] = {lat.L[0], lat.L[1], lat.L[2]};
    VortexCensus v;
    // Plaquette (normal na, base site p0) spans axes u = na+1, w = na+2 (mod 3);
    // corners p0, p0+u, p0+u+w, p0+w: counter-clockwise seen from +na.
    // 2D has only xy plaquettes (normal z); 3D has all three orientations.
    auto key = [&](int a, index_t n) { return std::size_t(a) * std::size_t(lat.sites()) + std::size_t(n); };
    std::vector<std::int64_t> slot(lat.dim == 3 ? 3 * std::size_t(lat.sites()) : 0, -1);  // plaquette -> v.list index
    for (int na = lat.dim == 3 ? 0 : 2; na < 3; ++na) {
        const int u = (na + 1) % 3, w = (na + 2) % 3;
        for (index_t k = 0; k < L[2]; ++k)
            for (index_t j = 0; j < L[1]; ++j)
                for (index_t i = 0; i < L[0]; ++i) {
                    index_t p0[3] = {i, j, k};
                    index_t corners[4];
                    const int du[4] = {0, 1, 1, 0}, dw[4] = {0, 0, 1, 1};
                    for (int q = 0; q < 4; ++q) {
                        index_t p[3] = {p0[0], p0[1], p0[2]};
                        p[u] = (p[u] + du[q]) % L[u];
                        p[w] = (p[w] + dw[q]) % L[w];
                        corners[q] = lat.site(p[0], p[1], p[2]);
                    }
                    ++v.plaquettes;
                    bool skip = false;
                    for (index_t cn : corners) skip = skip || std::isnan(psi[cn]);
                    if (skip) { ++v.skipped; continue; }
                    double total = 0;
                    for (int q = 0; q < 4; ++q) total += wrap(psi[corners[(q + 1) % 4]] - psi[corners[q]]);
                    const int wnd = int(std::lround(total / (2 * M_PI)));
                    if (wnd == 0) continue;
                    (wnd > 0 ? v.vortices : v.antivortices) += std::abs(wnd);
                    Vortex vx;
                    for (int d = 0; d < 3; ++d) vx.pos[d] = double(p0[d]);
                    vx.pos[u] += 0.5;
                    vx.pos[w] += 0.5;
                    vx.normal = na;
                    vx.charge = wnd;
                    if (lat.dim == 3) slot[key(na, lat.site(i, j, k))] = std::int64_t(v.list.size());
                    v.list.push_back(vx);
                }
    }
    if (lat.dim == 3) {
        // A line through a unit cube enters and leaves through two of its six
        // faces: join the pierced faces of every cube.
        v.pierced = std::int64_t(v.list.size());
        DisjointSets sets(v.list.size());
        for (index_t k = 0; k < L[2]; ++k)
            for (index_t j = 0; j < L[1]; ++j)
                for (index_t i = 0; i < L[0]; ++i) {
                    std::int64_t first = -1;
                    for (int a = 0; a < 3; ++a)
                        for (int side = 0; side < 2; ++side) {
                            index_t p[3] = {i, j, k};
                            p[a] = (p[a] + side) % L[a];
                            const std::int64_t id = slot[key(a, lat.site(p[0], p[1], p[2]))];
                            if (id < 0) continue;
                            if (first < 0) first = id; else sets.join(id, first);
                        }
                }
        for (std::size_t q = 0; q < v.list.size(); ++q) v.lines += sets.find(std::int64_t(q)) == std::int64_t(q);
    }
    return v;
}

}  // namespace xyzmf
