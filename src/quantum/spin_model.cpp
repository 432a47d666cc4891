// The quantum problem's set-up: its parameter table and rules, the bonds of a
// ring or cluster, the displacement table of the correlations, and the
// product states trajectories start from.
#include <Random123/philox.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "xyzmf/error.hpp"
#include "initial_state.hpp"
#include "quantum.hpp"
#include "sectors.hpp"
#include "run_config.hpp"

namespace xyzmf {
namespace {

using V = ParamValue;

// Exact method: rho and the Arnoldi basis of 4^N numbers each.
constexpr int kMaxExactSpins = 12;     // the steady state, in its symmetry sector
// ... where L also keeps a spin charge (sectors.hpp), whose q = 0 part is about a
// third of the sector (ring of 14 at the sXY point: 19 min and 5.3 GB on 2 cores).
constexpr int kMaxChargedExactSpins = 14;
constexpr int kMaxGapSpins = 12;       // --gap, every sector (12: 42 min and 3.2 GB on 2 cores)
constexpr int kMaxFullSpaceSpins = 10;  // --series: the whole 4^N space

}  // namespace

const ParamTable<QuantumConfig>& quantum_parameters() {
    auto number = [](const ParamSpec& spec, auto field) { return number_param<QuantumConfig>(spec, field); };
    static const ParamTable<QuantumConfig> table = [&] {
        ParamTable<QuantumConfig> t;
        append_part(t, couplings_parameters(), [](auto& c) -> auto& { return c.couplings; });
        append_part(t, lattice_parameters(), [](auto& c) -> auto& { return c.lattice; });
        const ParamTable<QuantumConfig> rest = {
            {ParamSpec{"method", "--method", ParamKind::text, "", 0, 0}.one_of("trajectories|exact"),
             [](const QuantumConfig& c) -> V { return c.method; },
             [](QuantumConfig& c, const V& v) { c.method = as_text(v); }},
            {ParamSpec{"init", "--init", ParamKind::text, "", 0, 0},  // (checked in validate)
             [](const QuantumConfig& c) -> V { return c.init; },
             [](QuantumConfig& c, const V& v) { c.init = as_text(v); }},
            number({"trajectories", "--trajectories", ParamKind::integer, "", 1, 1e8},
                   [](auto& c) -> auto& { return c.trajectories; }),
            number(ParamSpec{"batch", "--batch", ParamKind::integer, "", 0, 1e6}.not_compared(),
                   [](auto& c) -> auto& { return c.batch; }),
            number({"seed", "--seed", ParamKind::integer, "", 0, kMaxSeed - 1000},
                   [](auto& c) -> auto& { return c.seed; }),
            number({"t_end", "--t-end", ParamKind::real, "1/gamma", 0, kMaxTime}, [](auto& c) -> auto& { return c.t_end; }),
            number({"burn_in", "--burn-in", ParamKind::real, "1/gamma", 0, kMaxTime},
                   [](auto& c) -> auto& { return c.burn_in; }),
            number(ParamSpec{"sample_dt", "--sample-dt", ParamKind::real, "1/gamma", 0, kMaxTime}.lo_excluded(),
                   [](auto& c) -> auto& { return c.sample_dt; }),
            number({"tol", "--tol", ParamKind::real, "", 1e-15, 1e-3}, [](auto& c) -> auto& { return c.tol; }),
        };
        t.insert(t.end(), rest.begin(), rest.end());
        return t;
    }();
    return table;
}

void validate(const QuantumConfig& c, const ParamSource& src) {
    check_all(quantum_parameters(), c, src);
    if (c.init != "random") try {
            pure_state_direction(c.init);
        } catch (const Error& e) {
            const std::string why = std::string(e.what()).substr(std::string("--init: ").size());
            refuse(src, find_param(quantum_parameters(), "init"),
                   why.rfind("expected", 0) == 0
                       ? "expected down, up, x, y, uniform:x,y,z (a unit vector) or random (got '" + c.init + "')"
                       : why);
        }
    check_lattice(c.lattice, src, "--sites/--size");
    const auto& table = quantum_parameters();
    const std::int64_t N = c.lattice.copy_sites();
    if (c.method == "exact") {
        if (!(c.couplings.gamma > 0))
            refuse(src, find_param(table, "gamma"),
                   "the exact method needs gamma > 0 (without decay the steady state is not unique)");
        const bool charged = N > kMaxExactSpins && N <= kMaxChargedExactSpins &&
                             conserved_charge(make_spin_model(c.lattice, c.couplings)).conserved;
        if (N > (charged ? kMaxChargedExactSpins : kMaxExactSpins))
            refuse(src, find_param(table, "method"),
                   "exact needs 4^N numbers per vector; at most " + std::to_string(kMaxExactSpins) + " spins, " +
                       std::to_string(kMaxChargedExactSpins) +
                       " where a spin charge is conserved (Jx = Jy, or Jx = -Jy on an even ring or a cluster with even sides) (got " +
                       std::to_string(N) + "; use --method trajectories)");
        if (c.gap && N > kMaxGapSpins)
            refuse(src, "--gap",
                   "solves every symmetry sector; at most " + std::to_string(kMaxGapSpins) + " spins (got " +
                       std::to_string(N) + "; the steady state alone goes to " + std::to_string(kMaxExactSpins) + ")");
        if (c.series && N > kMaxFullSpaceSpins)
            refuse(src, "--series",
                   "needs the whole 4^N space; at most " + std::to_string(kMaxFullSpaceSpins) + " spins (got " +
                       std::to_string(N) + "; the steady state goes to " + std::to_string(kMaxExactSpins) + ", the gap to " +
                       std::to_string(kMaxGapSpins) + ")");
    } else if (N > kMaxSpins) {
        refuse(src, "--sites/--size", "at most " + std::to_string(kMaxSpins) + " spins (2^N amplitudes per trajectory; got " +
                                          std::to_string(N) + ")");
    }
    if (c.method == "trajectories") {
        if (!(c.burn_in < c.t_end) && !(c.burn_in == 0 && c.t_end == 0))
            refuse(src, find_param(table, "burn_in"),
                   "must be less than --t-end (got " + value_text(c.burn_in) + " >= " + value_text(c.t_end) + ")");
        if (c.t_end / c.sample_dt > 1e7)
            refuse(src, find_param(table, "sample_dt"), "gives more than 1e7 samples per trajectory");
        if (c.sample_dt > c.t_end && c.t_end > 0)
            refuse(src, find_param(table, "sample_dt"), "must be at most --t-end");
    }
}

SpinModel make_spin_model(const Lattice& lat, const Couplings& c) {
    SpinModel m;
    m.spins = int(lat.copy_sites());
    const double scale = 1.0 / (2 * lat.dim);
    for (index_t k = 0; k < lat.L[2]; ++k)
        for (index_t j = 0; j < lat.L[1]; ++j)
            for (index_t i = 0; i < lat.L[0]; ++i)
                for (int a = 0; a < lat.dim; ++a) {
                    if (lat.L[a] == 1) continue;  // a site's bond to itself is a constant
                    index_t x[3] = {i, j, k};
                    x[a] = (x[a] + 1) % lat.L[a];
                    m.bond_a[m.bonds] = std::uint8_t(lat.site(i, j, k));
                    m.bond_b[m.bonds] = std::uint8_t(lat.site(x[0], x[1], x[2]));
                    ++m.bonds;
                }
    m.flip_equal = (c.Jx - c.Jy) * scale;
    m.flip_unequal = (c.Jx + c.Jy) * scale;
    m.zz = c.Jz * scale;
    m.gamma = c.gamma;
    m.gamma_phi = c.gamma_phi;
    // Centres the anti-Hermitian diagonal -(gamma n_up + gamma_phi N)/2 on zero.
    m.shift = 0.25 * c.gamma * m.spins + 0.5 * c.gamma_phi * m.spins;
    return m;
}

std::vector<int> displacement_partners(const Lattice& lat) {
    const int N = int(lat.copy_sites());
    std::vector<int> p(std::size_t(N) * N);
    for (index_t rk = 0; rk < lat.L[2]; ++rk)
        for (index_t rj = 0; rj < lat.L[1]; ++rj)
            for (index_t ri = 0; ri < lat.L[0]; ++ri)
                for (index_t k = 0; k < lat.L[2]; ++k)
                    for (index_t j = 0; j < lat.L[1]; ++j)
                        for (index_t i = 0; i < lat.L[0]; ++i)
                            p[std::size_t(lat.site(ri, rj, rk)) * N + lat.site(i, j, k)] =
                                int(lat.site((i + ri) % lat.L[0], (j + rj) % lat.L[1], (k + rk) % lat.L[2]));
    return p;
}

namespace {
// A uniform double in (0, 1) from Philox keyed by (seed, trajectory).
double uniform(std::int64_t seed, std::int64_t trajectory, std::uint32_t stream, std::uint64_t draw) {
    using Philox = r123::Philox4x32;
    Philox rng;
    const Philox::key_type key = {{std::uint32_t(seed), std::uint32_t(std::uint64_t(seed) >> 32)}};
    const Philox::ctr_type ctr = {{std::uint32_t(trajectory), std::uint32_t(std::uint64_t(trajectory) >> 32),
                                   std::uint32_t(draw), stream ^ (std::uint32_t(draw >> 32) << 8)}};
    const Philox::ctr_type r = rng(ctr, key);
    const std::uint64_t bits = (std::uint64_t(r[0]) << 21) ^ std::uint64_t(r[1]);  // 53 bits
    return (double(bits & ((std::uint64_t(1) << 53) - 1)) + 0.5) * 0x1p-53;
}
}  // namespace

double trajectory_uniform(std::int64_t seed, std::int64_t trajectory, std::uint64_t draw) {
    return uniform(seed, trajectory, 0, draw);
}

std::vector<Amp> product_state(const std::string& init, int spins, std::int64_t seed, std::int64_t trajectory) {
    // One spin's amplitudes (up, down) for each site, then their tensor product.
    std::vector<Amp> up(static_cast<std::size_t>(spins)), down(static_cast<std::size_t>(spins));
    const double h = std::sqrt(0.5);
    for (int n = 0; n < spins; ++n) {
        if (init == "down") up[n] = {0, 0}, down[n] = {1, 0};
        else if (init == "up") up[n] = {1, 0}, down[n] = {0, 0};
        else if (init == "x") up[n] = {h, 0}, down[n] = {h, 0};
        else if (init == "y") up[n] = {h, 0}, down[n] = {0, h};
        else if (init == "random") {
            // A uniform point on the Bloch sphere: cos(theta) uniform in [-1, 1].
            const double z = 2 * uniform(seed, trajectory, 1, 2 * std::uint64_t(n)) - 1;
            const double phi = 2 * M_PI * uniform(seed, trajectory, 1, 2 * std::uint64_t(n) + 1);
            up[n] = {std::sqrt(0.5 * (1 + z)), 0};
            const double s = std::sqrt(0.5 * (1 - z));
            down[n] = {s * std::cos(phi), s * std::sin(phi)};
        } else {  // uniform:x,y,z: cos(theta/2) |up> + exp(i phi) sin(theta/2) |down>
            const std::array<double, 3> v = pure_state_direction(init);
            const double theta = std::acos(std::clamp(v[2], -1.0, 1.0)), phi = std::atan2(v[1], v[0]);
            up[n] = {std::cos(theta / 2), 0};
            down[n] = {std::sin(theta / 2) * std::cos(phi), std::sin(theta / 2) * std::sin(phi)};
        }
    }
    const basis_t D = basis_t(1) << spins;
    std::vector<Amp> psi(D);
    for (basis_t i = 0; i < D; ++i) {
        Amp a{1, 0};
        for (int n = 0; n < spins; ++n) a = a * (bit(i, n) ? up[n] : down[n]);
        psi[i] = a;
    }
    return psi;
}

double heff_norm_bound(const SpinModel& m) {
    // |H_eff + i shift| <= sum over bonds of the bond operator's norm
    // (|Jz| + max(|Jx - Jy|, |Jx + Jy|))/(2d), plus gamma N/4 for the
    // centred anti-Hermitian part (gamma_phi only shifts it).
    const double bond = std::abs(m.zz) + std::max(std::abs(m.flip_equal), std::abs(m.flip_unequal));
    return m.bonds * bond + 0.25 * m.gamma * m.spins;
}

SeriesPlan plan_series(double lambda, double tol) {
    if (!(lambda > 0)) return {HUGE_VAL, 1};
    // The truncation error after K terms is at most x^(K+1)/(K+1)! / (1 - x/(K+2))
    // for x = lambda h; pick the x with the fewest terms per unit time. x stays
    // <= 4 so the series' partial sums (up to e^x) lose < 2 digits to rounding.
    SeriesPlan best{0, 0};
    double best_cost = HUGE_VAL;
    for (double x = 0.25; x <= 4.0 + 1e-12; x += 0.25) {
        int K = 1;
        while (K < 200) {
            const double log_bound = (K + 1) * std::log(x) - std::lgamma(K + 2.0) - std::log1p(-x / (K + 2));
            if (x < K + 2 && log_bound <= std::log(tol)) break;
            ++K;
        }
        const double cost = K / x;
        if (cost < best_cost) best_cost = cost, best = {x / lambda, K};
    }
    return best;
}

}  // namespace xyzmf
