// The host's reduction of a full k-grid (see spectrum_summary.hpp).
#include "spectrum_summary.hpp"

#include <algorithm>

#include "fixed_blocks.hpp"
#include "xyzmf/spectrum_geometry.hpp"

namespace xyzmf {

index_t mirror_index(const Lattice& lat, index_t m) {
    const index_t Lx = lat.L[0], Ly = lat.L[1], Lz = lat.L[2];
    return lat.site(mirror_coord(m % Lx, Lx), mirror_coord((m / Lx) % Ly, Ly), mirror_coord(m / (Lx * Ly), Lz));
}

bool has_pi_point(const Lattice& lat) {
    for (int a = 0; a < lat.dim; ++a)
        if (lat.L[a] % 2 != 0) return false;
    return true;
}

void perp_marginals(const StructureFactor& sf, std::vector<double> (&marginal)[3]) {
    const Lattice& lat = sf.lattice;
    for (int a = 0; a < 3; ++a) marginal[a].assign(a < lat.dim ? std::size_t(lat.L[a]) : 0, 0.0);
    // Grid order (each bin sums its points by ascending index, as the
    // device's per-bin reduction does not: roundoff apart, the same sums).
    index_t m = 0;
    for (index_t z = 0; z < lat.L[2]; ++z)
        for (index_t y = 0; y < lat.L[1]; ++y)
            for (index_t x = 0; x < lat.L[0]; ++x, ++m) {
                const double v = sf.perp(m);
                marginal[0][std::size_t(x)] += v;
                if (lat.dim > 1) marginal[1][std::size_t(y)] += v;
                if (lat.dim > 2) marginal[2][std::size_t(z)] += v;
            }
}

SpectrumSummary summarize_spectrum(const StructureFactor& sf, bool with_radial) {
    const Lattice& lat = sf.lattice;
    const index_t N = lat.sites();
    SpectrumSummary s;
    s.lattice = lat;
    for (index_t m = 0; m < N; ++m) s.total_perp += sf.perp(m);

    std::vector<index_t> order(static_cast<std::size_t>(N));
    for (index_t m = 0; m < N; ++m) order[std::size_t(m)] = m;
    const std::size_t top = std::min<std::size_t>(SpectrumSummary::kStrongest, order.size());
    std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(top), order.end(), [&](index_t a, index_t b) {
        return sf.perp(a) > sf.perp(b) || (sf.perp(a) == sf.perp(b) && a < b);
    });
    for (std::size_t q = 0; q < top; ++q) {
        const index_t m = order[q];
        s.strongest.push_back({m, sf.perp(m), sf.perp(mirror_index(lat, m))});
    }

    s.perp_k0 = N > 0 ? sf.perp(0) : 0;
    if (has_pi_point(lat))
        s.perp_kpi = sf.perp(lat.site(lat.L[0] / 2, lat.dim > 1 ? lat.L[1] / 2 : 0, lat.dim > 2 ? lat.L[2] / 2 : 0));
    perp_marginals(sf, s.marginal);
    if (with_radial) s.radial = radial_average(sf);
    return s;
}

SpectrumSummary summary_of_reduced_spectrum(const Lattice& lat, const ReducedSpectrum& d) {
    SpectrumSummary s;
    s.lattice = lat;
    s.total_perp = d.total_perp;
    s.perp_k0 = d.perp_k0;
    s.perp_kpi = has_pi_point(lat) ? d.perp_kpi : 0;
    // A half-spectrum point stands for itself and, where its mirror lies
    // outside the half, for the mirror too (same value). The device kept the
    // strongest points ranked by value, then the smaller index of the two; the
    // grid's strongest points are among their unfolding (a point ranked below
    // kStrongest half-spectrum points has as many grid points above it).
    const index_t Lx = lat.L[0];
    std::vector<PerpPoint> points;
    for (const ReducedSpectrum::Point& p : d.strongest) {
        const index_t e = half_point_of_key(lat, p.key), own = grid_index_of_half_point(lat, e);
        if (mirror_outside_half(own % Lx, Lx)) {
            points.push_back({own, p.value, p.value});
            points.push_back({mirror_index(lat, own), p.value, p.value});
        } else {
            points.push_back({own, p.value, p.mirror_value});
        }
    }
    std::sort(points.begin(), points.end(), [](const PerpPoint& a, const PerpPoint& b) {
        return a.value > b.value || (a.value == b.value && a.index < b.index);
    });
    if (points.size() > std::size_t(SpectrumSummary::kStrongest)) points.resize(std::size_t(SpectrumSummary::kStrongest));
    s.strongest = std::move(points);
    for (int a = 0; a < 3; ++a) s.marginal[a] = d.marginal[a];
    if (!d.radial_count.empty()) {
        std::vector<double> sum[3] = {d.radial_sum[0], d.radial_sum[1], d.radial_sum[2]};
        s.radial = radial_average_of_sums(lat, sum, d.radial_count);
    }
    return s;
}

ReducedSpectrum reduce_half_spectrum_block(const Lattice& lat, const HalfSpectrumBlock& block, bool radial) {
    const index_t N = lat.sites();
    ReducedSpectrum r;
    StrongestPoints<kStrongestPoints> strongest;
    strongest.clear();
    for (int a = 0; a < lat.dim; ++a) r.marginal[a].assign(std::size_t(lat.L[a]), 0.0);
    if (radial) {
        for (auto& S : r.radial_sum) S.assign(std::size_t(radial_bin_count(lat)), 0.0);
        r.radial_count.assign(std::size_t(radial_bin_count(lat)), 0.0);
    }
    for (index_t e = block.e0; e < block.e1; ++e) {
        index_t c[3];
        half_point_coords(lat, e, c);
        const bool twice = mirror_outside_half(c[0], lat.L[0]);
        const double v = block.perp(e, N);
        r.total_perp += twice ? 2 * v : v;
        if (strongest.count < kStrongestPoints || v >= strongest.value[kStrongestPoints - 1])
            strongest.offer(v, half_point_key(lat, e));
        for (int a = 0; a < lat.dim; ++a) {
            r.marginal[a][std::size_t(c[a])] += v;
            if (twice) r.marginal[a][std::size_t(mirror_coord(c[a], lat.L[a]))] += v;
        }
        if (radial) {
            const std::size_t b = std::size_t(radial_bin(lat, c[0], c[1], c[2]));
            r.radial_count[b] += twice ? 2 : 1;
            for (int k = 0; k < 3; ++k) r.radial_sum[k][b] += (twice ? 2 : 1) * (block.at(k, e) / double(N));
        }
    }
    for (int i = 0; i < strongest.count; ++i) r.strongest.push_back({strongest.value[i], strongest.key[i], 0.0});
    return r;
}

void merge_reduced_spectra(ReducedSpectrum& total, const ReducedSpectrum& part) {
    total.total_perp += part.total_perp;
    StrongestPoints<kStrongestPoints> strongest;
    strongest.clear();
    for (const ReducedSpectrum* r : {static_cast<const ReducedSpectrum*>(&total), &part})
        for (const ReducedSpectrum::Point& p : r->strongest) strongest.offer(p.value, p.key);
    total.strongest.clear();
    for (int i = 0; i < strongest.count; ++i) total.strongest.push_back({strongest.value[i], strongest.key[i], 0.0});
    auto add = [](std::vector<double>& to, const std::vector<double>& from) {
        if (to.empty()) to.assign(from.size(), 0.0);
        for (std::size_t i = 0; i < from.size(); ++i) to[i] += from[i];
    };
    for (int a = 0; a < 3; ++a) add(total.marginal[a], part.marginal[a]);
    for (int c = 0; c < 3; ++c) add(total.radial_sum[c], part.radial_sum[c]);
    add(total.radial_count, part.radial_count);
}

std::vector<index_t> points_to_read(const Lattice& lat, const ReducedSpectrum& r) {
    std::vector<index_t> e = {0, half_point_pi(lat)};
    for (const ReducedSpectrum::Point& p : r.strongest) {
        const index_t h = half_point_of_key(lat, p.key), m = inner_mirror_point(lat, h);
        e.push_back(m < 0 ? h : m);  // (h: a place holder, its value is p's own)
    }
    return e;
}

void fill_read_points(const Lattice& lat, ReducedSpectrum& r, const std::vector<double>& perp) {
    r.perp_k0 = perp[0];
    r.perp_kpi = perp[1];
    for (std::size_t i = 0; i < r.strongest.size(); ++i) {
        const bool outside = inner_mirror_point(lat, half_point_of_key(lat, r.strongest[i].key)) < 0;
        r.strongest[i].mirror_value = outside ? r.strongest[i].value : perp[i + 2];
    }
}

ReducedSpectrum reduce_half_spectrum(const Lattice& lat, const std::vector<double> (&power)[3], bool radial) {
    HalfSpectrumBlock block;
    for (int c = 0; c < 3; ++c) block.p[c] = power[c].data();
    block.e1 = index_t(power[0].size());
    // On every thread, in blocks of 2^16 points merged in their order (serial, this
    // was a twentieth of a 2048^2 sXY state's analysis on 2 cores, more on more).
    std::vector<ReducedSpectrum> part = reduce_fixed_blocks<ReducedSpectrum>(block.e1, index_t(1) << 16, [&](index_t e0, index_t e1) {
        HalfSpectrumBlock mine = block;
        mine.e0 = e0;
        mine.e1 = e1;
        for (const double*& p : mine.p)
            if (p) p += e0 * block.stride;
        return reduce_half_spectrum_block(lat, mine, radial);
    });
    ReducedSpectrum r = std::move(part[0]);
    for (std::size_t b = 1; b < part.size(); ++b) merge_reduced_spectra(r, part[b]);
    std::vector<double> perp;
    for (index_t e : points_to_read(lat, r)) perp.push_back(block.perp(e, lat.sites()));
    fill_read_points(lat, r, perp);
    return r;
}

}  // namespace xyzmf
