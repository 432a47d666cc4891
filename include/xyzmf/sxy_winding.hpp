// The sXY phase field and its plaquette winding (physics.md section 5), per
// site and per plaquette, written once for the host analysis
// (src/analysis/vortices.cpp) and the device analysis (kernels/analysis_kernels.cu):
// both must find the same vortices at the same places.
//
//   psi_n = atan2(y_n, x_n)          on A sites (i + j + k even)
//   psi_n = atan2(Jx x_n, -Jy y_n)   on B sites (the direction of M s_n)
//
// and NaN where the in-plane amplitude is below min_amplitude (no phase there).
#pragma once

#include <cmath>

#include "xyzmf/hd.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

XYZMF_HD double sxy_phase(double x, double y, bool a_site, double Jx, double Jy, double min_amplitude) {
    using std::atan2;
    // |(x, y)| < min_amplitude, squared: a Bloch vector's components cannot overflow,
    // and hypot was a sixth of the phase field's time on the host.
    if (min_amplitude > 0 && x * x + y * y < min_amplitude * min_amplitude) return NAN;  // no phase
    return a_site ? atan2(y, x) : atan2(Jx * x, -Jy * y);
}

// Component c (x, y, z) at one site of the field whose S(k) gives the sXY
// domain size: (cos psi, sin psi, 0), and 0 where psi is undefined (NaN).
XYZMF_HD double psi_field_component(double psi, int c) {
    using std::cos;
    using std::isnan;
    using std::sin;
    if (c == 2 || isnan(psi)) return 0.0;
    return c == 0 ? cos(psi) : sin(psi);
}

// A phase difference brought into (-pi, pi].
XYZMF_HD double wrap_phase(double d) {
    const double pi = 3.14159265358979323846;
    while (d > pi) d -= 2 * pi;
    while (d <= -pi) d += 2 * pi;
    return d;
}

// What one plaquette holds: its winding number, or that it was skipped (a
// corner without a phase).
struct PlaquetteWinding {
    int winding = 0;
    bool skipped = false;
};

// The winding of psi around corners p[0] -> p[1] -> p[2] -> p[3] -> p[0]
// (counter-clockwise seen from the plaquette's normal).
XYZMF_HD PlaquetteWinding plaquette_winding(const double (&p)[4]) {
    using std::isnan;
    using std::lround;
    PlaquetteWinding r;
    if (isnan(p[0]) || isnan(p[1]) || isnan(p[2]) || isnan(p[3])) {
        r.skipped = true;
        return r;
    }
    double total = 0;
    for (int q = 0; q < 4; ++q) total += wrap_phase(p[(q + 1) % 4] - p[q]);
    r.winding = int(lround(total / (2 * 3.14159265358979323846)));
    return r;
}

// Plaquettes: one per (normal, base site). Plaquette (normal na, base p0)
// spans axes u = na + 1 and w = na + 2 (mod 3), corners p0, p0 + e_u,
// p0 + e_u + e_w, p0 + e_w (periodic), counter-clockwise seen from +na. 2D has
// only xy plaquettes (normal z); 3D all three. Numbered (normal, site): index
// (na - first_normal) N + site, the order the census lists them in.
XYZMF_HD int first_plaquette_normal(int dim) { return dim == 3 ? 0 : 2; }
XYZMF_HD index_t plaquette_count(const Lattice& lat) { return (3 - first_plaquette_normal(lat.dim)) * lat.sites(); }

// The normal, base coordinates and corner sites of plaquette number q.
XYZMF_HD int plaquette_corners(const Lattice& lat, index_t q, index_t base[3], index_t corner[4]) {
    const index_t N = lat.sites();
    const int na = first_plaquette_normal(lat.dim) + int(q / N);
    const index_t n = q % N;
    base[0] = n % lat.L[0];
    base[1] = (n / lat.L[0]) % lat.L[1];
    base[2] = n / (lat.L[0] * lat.L[1]);
    const int u = (na + 1) % 3, w = (na + 2) % 3;
    index_t a[3] = {base[0], base[1], base[2]}, b[3], c[3], d[3];
    for (int e = 0; e < 3; ++e) b[e] = c[e] = d[e] = a[e];
    b[u] = (a[u] + 1) % lat.L[u];
    c[u] = b[u];
    c[w] = (a[w] + 1) % lat.L[w];
    d[w] = c[w];
    corner[0] = n;
    corner[1] = lat.site(b[0], b[1], b[2]);
    corner[2] = lat.site(c[0], c[1], c[2]);
    corner[3] = lat.site(d[0], d[1], d[2]);
    return na;
}

// The winding around plaquette number q of the phase field psi (one value a site).
XYZMF_HD PlaquetteWinding plaquette_winding_at(const Lattice& lat, const double* psi, index_t q) {
    index_t base[3], corner[4];
    plaquette_corners(lat, q, base, corner);
    const double around[4] = {psi[corner[0]], psi[corner[1]], psi[corner[2]], psi[corner[3]]};
    return plaquette_winding(around);
}

}  // namespace xyzmf
