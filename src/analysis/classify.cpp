// Phase classification from S_perp (see classify.hpp).
#include "classify.hpp"

#include <algorithm>
#include <cmath>
#include <complex>
#include <cstdio>
#include <limits>
#include <vector>

#include "fixed_blocks.hpp"
#include "vortices.hpp"
#include "xyzmf/sxy_winding.hpp"

namespace xyzmf {
namespace {

Peak make_peak(const Lattice& lat, index_t m, double weight) {
    Peak p;
    p.index = m;
    p.weight = weight;
    const index_t coord[3] = {m % lat.L[0], (m / lat.L[0]) % lat.L[1], m / (lat.L[0] * lat.L[1])};
    for (int a = 0; a < lat.dim; ++a) {
        index_t c = coord[a];
        if (2 * c > lat.L[a]) c -= lat.L[a];
        p.k[a] = 2 * M_PI * double(c) / double(lat.L[a]);
    }
    return p;
}

std::string fmt(const char* f, double v) {
    char b[64];
    std::snprintf(b, sizeof b, f, v);
    return b;
}

// Domain size along the axes from the marginals of a structure factor's
// S_perp (spectrum_summary.hpp): the marginal S_a(q) over the other axes gives the correlation along axis a,
// C_a(r) = sum_q S_a(q) cos(q r) / sum_q S_a(q) (Wiener-Khinchin). For a
// modulation with wave vector component k_a, C oscillates as cos(k_a r) under
// its envelope, which is read as the largest |C| over the next half period
// pi / k_a. The size is 2 r_half, r_half the first distance where the
// envelope is <= 1/2 (interpolated): domains of side l with independent
// orientations (the sXY phase field) have C(r) = 1 - r/l, hence size l; where
// the order has two orientations (FM, AFM, SDW), neighbouring domains are
// opposite, C(r) = 1 - 2 r/l and the size is l/2; an uncorrelated state
// gives about 1. Averaged over the axes that decay; inf when none does
// within L/2 (one domain).
double domain_size(const Lattice& lat, const std::vector<double> (&marginals)[3], const double k[3]) {
    double sum = 0;
    int axes = 0;
    for (int a = 0; a < lat.dim; ++a) {
        const index_t L = lat.L[a];
        if (L < 3) continue;
        const std::vector<double>& marginal = marginals[a];
        double norm = 0;
        for (double v : marginal) norm += v;
        if (!(norm > 0)) continue;
        // C(d) as the search below reaches it (it stops at the first half-envelope,
        // usually a few domain sizes in), each from a table of the L cosines: the
        // whole of C, a cosine and a division per term, was O(L^2) per axis -- minutes
        // for a ring of 65536. The same arguments, so the same values bit for bit.
        std::vector<double> cosines(static_cast<std::size_t>(L));
        for (index_t j = 0; j < L; ++j) cosines[std::size_t(j)] = std::cos(2 * M_PI * double(j) / double(L));
        std::vector<double> C(static_cast<std::size_t>(L / 2 + 1), -1.0);  // (-1: not computed yet)
        const auto correlation = [&](index_t d) {
            double& c = C[std::size_t(d)];
            if (c < 0) {
                double acc = 0;
                index_t q = 0;  // i d mod L
                for (index_t i = 0; i < L; ++i) {
                    acc += marginal[std::size_t(i)] * cosines[std::size_t(q)];
                    q += d;
                    if (q >= L) q -= L;
                }
                c = std::abs(acc) / norm;
            }
            return c;
        };
        const double ka = std::abs(std::remainder(k[a], M_PI));  // |cos(k r)| has period pi / k
        const index_t window = ka > 1e-12 ? std::max<index_t>(1, index_t(std::ceil(M_PI / ka))) : 1;
        auto envelope = [&](index_t d) {
            double e = 0;
            for (index_t j = d; j < std::min<index_t>(d + window, index_t(C.size())); ++j) e = std::max(e, correlation(j));
            return e;
        };
        double prev = 1, size = HUGE_VAL;
        for (index_t d = 1; d + window <= L / 2 + 1; ++d) {
            const double e = envelope(d);
            if (e <= 0.5) {
                size = 2 * (double(d - 1) + (prev - 0.5) / (prev - e));
                break;
            }
            prev = e;
        }
        if (std::isfinite(size)) {
            sum += size;
            ++axes;
        }
    }
    return axes > 0 ? sum / axes : HUGE_VAL;
}

// Which order a peak belongs to: FM at k = 0, AFM at k = pi (within a grid step,
// or 2.5 for a broad peak), otherwise a modulation, SDW. A multi-domain state
// (the peak below single_domain) whose couplings have no modulated mode
// (Couplings::modulated_mode_u) cannot be an SDW: its peak off k = 0 or pi is
// the spread of domains of the uniform order, FM or AFM, whichever end of the
// band its u = mean cos k is nearer. (Without this, FM domains of the 1D chain
// at (2, 0, 1), whose walls leave the strongest mode three steps from k = 0,
// were called SDW.) A lattice with an odd side has no k = pi: there one domain
// of staggered order has a seam and peaks at the k nearest pi, which without a
// modulated mode is AFM too, as the stability map calls that mode (it was
// called SDW).
std::string order_of_peak(const Lattice& lat, const Couplings& c, const Peak& peak, const ClassifyThresholds& th,
                          bool near_0, bool near_pi) {
    if (near_0) return "FM";
    if (near_pi) return "AFM";
    const bool modulated = !std::isnan(c.modulated_mode_u());
    bool nearest_pi = true;  // on every axis the grid's k nearest pi (pi itself on an even side)
    for (int a = 0; a < lat.dim; ++a)
        nearest_pi = nearest_pi && std::abs(std::abs(peak.k[a]) - M_PI) <= (M_PI / double(lat.L[a])) * (1 + 1e-9);
    if (!modulated && nearest_pi) return "AFM";
    if (peak.weight >= th.single_domain || modulated) return "SDW";
    double u = 0;
    for (int a = 0; a < lat.dim; ++a) u += std::cos(peak.k[a]) / lat.dim;
    return u < 0 ? "AFM" : "FM";  // (an odd side has no k = pi, but its staggered order is still AFM)
}

}  // namespace

double noise_peak_weight(index_t sites) {
    // Uncorrelated spins: each S_perp(k) / mean is at most as broad as an exponential
    // (two independent components give Gamma(2), whose tail is thinner; the
    // self-mirrored k = 0 and pi hold one mode, not two, and stay below it too), so a
    // pair of modes holds a share w = 2 G / N with P(w > x) <= exp(-N x / 2). Over the
    // N / 2 pairs, the strongest exceeds x with probability <= (N / 2) exp(-N x / 2):
    // 1e-3 at x = (2 / N) ln(500 N).
    const double n = double(std::max<index_t>(sites, 1));
    return std::min(1.0, 2 / n * std::log(500 * n));
}

bool is_sxy_point(const Couplings& c) { return c.Jz == 0 && c.Jx * c.Jy < 0; }

void SiteTallies::merge(const SiteTallies& o) {
    sites += o.sites;
    residual = std::max(residual, o.residual);
    moving += o.moving;
    perp2 += o.perp2;
    z += o.z;
    psi_sum += o.psi_sum;
    psi_sites += o.psi_sites;
}

SiteTallies tally_sites(const double* s, const double* rate, index_t n, const double* psi, double stationary_residual,
                        index_t rate_stride) {
    const index_t r = rate_stride > 0 ? rate_stride : n;
    // On every thread (serial, with exp(i psi) at each site, they took a tenth of a
    // 2048^2 sXY state's analysis), in blocks of 2^14 sites summed in their order.
    const std::vector<TallyTerms> part = reduce_fixed_blocks<TallyTerms>(n, index_t(1) << 14, [&](index_t m0, index_t m1) {
        TallyTerms t;
        for (index_t m = m0; m < m1; ++m)
            t.merge(tally_site(s[m], s[n + m], s[2 * n + m], rate[m], rate[r + m], rate[2 * r + m], psi ? psi[m] : NAN,
                               stationary_residual));
        return t;
    });
    TallyTerms sum;
    for (const TallyTerms& t : part) sum.merge(t);
    return site_tallies(sum, n);
}

SiteTallies site_tallies(const TallyTerms& sum, index_t sites) {
    SiteTallies t;
    t.sites = sites;
    t.residual = sum.residual;
    t.moving = sum.moving;
    t.perp2 = sum.perp2;
    t.z = sum.z;
    t.psi_sum = {sum.psi_re, sum.psi_im};
    t.psi_sites = sum.psi_sites;
    return t;
}

bool needs_psi_structure(const Couplings& c, const SiteTallies& t, const ClassifyThresholds& th) {
    return is_sxy_point(c) && t.sites > 0 && std::sqrt(t.perp2 / double(t.sites)) >= th.pm_m_perp;
}

HostState psi_field(const std::vector<double>& psi) {
    const std::size_t n = psi.size();
    HostState field(3 * n);
    for (int c = 0; c < 3; ++c)
        for (std::size_t m = 0; m < n; ++m) field[c * n + m] = psi_field_component(psi[m], c);
    return field;
}

Classification classify(const Lattice& lat, const Couplings& c, const HostState& s, const StructureFactor& sf,
                        const HostState& rate, double residual_trend, const ClassifyThresholds& th) {
    std::vector<double> psi;
    if (is_sxy_point(c)) psi = sxy_phase_field(lat, c, s, th.vortex_amplitude);
    const SiteTallies t = tally_sites(s.data(), rate.data(), lat.sites(), psi.empty() ? nullptr : psi.data(),
                                      th.stationary_residual);
    std::vector<double> psi_marginal[3];
    if (needs_psi_structure(c, t, th)) perp_marginals(StructureFactorEngine(lat).compute(psi_field(psi)), psi_marginal);
    return classify(lat, c, t, summarize_spectrum(sf, false), psi_marginal, residual_trend, th);
}

Classification classify(const Lattice& lat, const Couplings& c, const SiteTallies& t, const SpectrumSummary& sk,
                        const std::vector<double> (&psi_marginal)[3], double residual_trend,
                        const ClassifyThresholds& th) {
    const index_t N = lat.sites();
    Classification r;
    r.residual_trend = residual_trend;
    r.residual = t.residual;
    r.moving_fraction = double(t.moving) / double(N);
    r.m_perp = std::sqrt(t.perp2 / double(N));
    r.mean_z = t.z / double(N);

    // Weights of S_perp; they sum to 1 (Parseval: sum_k S(k) = sum_n a_n^2).
    const double total = sk.total_perp;
    auto weight = [&](double perp) { return total > 0 ? perp / total : 0.0; };

    // The strongest peaks, +-k merged.
    for (const PerpPoint& q : sk.strongest) {
        if (r.peaks.size() >= 4) break;
        const index_t mm = mirror_index(lat, q.index);
        bool seen = false;
        for (const Peak& p : r.peaks) seen = seen || p.index == mm;
        if (!seen) r.peaks.push_back(make_peak(lat, q.index, weight(q.value) + (mm != q.index ? weight(q.mirror_value) : 0.0)));
    }
    r.peak = r.peaks.empty() ? Peak{} : r.peaks.front();
    for (int a = 0; a < lat.dim; ++a) r.period[a] = r.peak.k[a] != 0 ? 2 * M_PI / std::abs(r.peak.k[a]) : 0;

    r.weight_k0 = weight(sk.perp_k0);
    const bool has_pi = has_pi_point(lat);
    r.weight_kpi = has_pi ? weight(sk.perp_kpi) : 0;

    // Which order the dominant peak belongs to: at (or, for broad peaks,
    // within two grid steps of) k = 0 or k = pi; otherwise a modulation.
    auto near = [&](double target) {
        for (int a = 0; a < lat.dim; ++a) {
            const double step = 2 * M_PI / double(lat.L[a]);
            const double d = std::abs(std::abs(r.peak.k[a]) - target);
            if (d > (r.peak.weight >= th.single_domain ? 0.5 : 2.5) * step) return false;
        }
        return true;
    };
    const bool near_0 = near(0), near_pi = has_pi && near(M_PI);
    const std::string peak_order = order_of_peak(lat, c, r.peak, th, near_0, near_pi);  // (away from sXY points)
    const bool sxy = is_sxy_point(c);
    if (sxy) r.psi_coherence = t.psi_sites > 0 ? std::abs(t.psi_sum) / double(t.psi_sites) : 0;

    // Domain size: from the correlation of the order parameter, the spins
    // demodulated at the dominant peak, or at an sXY point the phase field psi
    // (its domains are what coarsens; S_perp there mixes k = 0 and pi with a
    // weight set by the local theta). Not defined for a paramagnet.
    if (r.m_perp >= th.pm_m_perp) {
        if (sxy) {
            const double zero[3] = {0, 0, 0};
            r.correlation_length = domain_size(lat, psi_marginal, zero);
        } else {
            // Demodulate at the order's wave vector: k = 0 or pi for FM and AFM
            // (whatever small-k peak a multi-domain state shows), the peak for SDW.
            const bool fm = peak_order == "FM", afm = peak_order == "AFM";
            double k[3] = {0, 0, 0};
            for (int a = 0; a < lat.dim; ++a) k[a] = fm ? 0 : afm ? M_PI : r.peak.k[a];
            r.correlation_length = domain_size(lat, sk.marginal, k);
        }
    } else {
        r.correlation_length = std::numeric_limits<double>::quiet_NaN();
    }

    const std::string where = "peak k/pi = (" + fmt("%.3f", r.peak.k[0] / M_PI) +
                              (lat.dim > 1 ? ", " + fmt("%.3f", r.peak.k[1] / M_PI) : "") +
                              (lat.dim > 2 ? ", " + fmt("%.3f", r.peak.k[2] / M_PI) : "") + ") holds " +
                              fmt("%.1f%%", 100 * r.peak.weight) + " of S_perp";
    if (r.m_perp < th.pm_m_perp) {
        r.phase = "PM";
        r.order = "none";
        r.reason = "m_perp = " + fmt("%.3g", r.m_perp) + " < " + fmt("%g", th.pm_m_perp) + ", mean z = " + fmt("%.4f", r.mean_z);
    } else if (sxy) {
        r.order = "sXY";
        const double two = r.weight_k0 + r.weight_kpi;
        const bool single = two >= th.single_domain && r.psi_coherence >= th.psi_coherence;
        r.phase = single ? "sXY" : "domains";
        r.reason = "sXY point (Jz = 0, Jx Jy < 0): k = 0 and k = pi hold " + fmt("%.1f%%", 100 * two) +
                   " of S_perp, sXY phase coherence |<exp(i psi)>| = " + fmt("%.3f", r.psi_coherence);
    } else {
        r.order = peak_order;
        r.phase = r.peak.weight >= th.single_domain ? r.order : "domains";
        r.reason = "m_perp = " + fmt("%.3f", r.m_perp) + "; " + where;
        if (r.phase == "domains")
            r.reason += " (< " + fmt("%g", th.single_domain) + "), domain size " + fmt("%.3g", r.correlation_length) +
                        " sites";
        if (r.order != "SDW" && !near_0 && !near_pi)
            r.reason += "; no modulated mode at these couplings (physics.md 3.7), so " +
                        (r.phase == "domains" ? "domains of " + r.order
                                              : r.order + " with a seam, at the k nearest pi (an odd side has no k = pi)");
    }
    if (r.moving_fraction > th.moving_fraction) {
        // A moving state of uncorrelated spins has no order yet: its strongest mode is
        // noise, FM, AFM or SDW by chance (a random start's was reported as an order).
        // Both tests must say so: the correlation gone within a site, and no mode (at
        // sXY points, k = 0 and pi together) above what uncorrelated spins reach.
        const double strongest = sxy ? r.weight_k0 + r.weight_kpi : r.peak.weight;
        const double noise = noise_peak_weight(N);
        if (r.correlation_length < th.ordered_domain && strongest < noise) {
            r.order = "none";
            r.reason = "domain size " + fmt("%.3g", r.correlation_length) + " < " + fmt("%g", th.ordered_domain) +
                       " sites, and " + (sxy ? "k = 0 and pi hold " : "the strongest mode holds ") +
                       fmt("%.2g%%", 100 * strongest) + " of S_perp, below the " + fmt("%.2g%%", 100 * noise) +
                       " that uncorrelated spins exceed once in 1000 states";
        }
        r.reason = fmt("%.0f%%", 100 * r.moving_fraction) + " of sites still move (|ds/dt| > " +
                   fmt("%g", th.stationary_residual) + ", residual " + fmt("%.3g", r.residual) +
                   "); order so far: " + r.order + "; " + r.reason;
        r.phase = "not stationary";
    }
    return r;
}

}  // namespace xyzmf
