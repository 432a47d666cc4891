// The analysis of a lattice spread over ranks (src/mpi/slab_analysis.hpp)
// against the serial analysis of the same state, under 1 and 3 ranks: S(k) to
// roundoff, the vortex census (counts, skipped plaquettes, every vortex's
// position, orientation and charge, 3D lines) identical, the classification
// the same (residual and moving sites exactly, sums to roundoff). The states are random
// ones at the sXY point, where nearly every plaquette winds or is skipped, and a
// planted vortex-antivortex pair across the boundary of two slabs.
#include <gtest/gtest.h>
#include <mpi.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "../census_checks.hpp"
#include "box.hpp"
#include "slab_analysis.hpp"
#include "initial_state.hpp"

namespace xyzmf::test {
namespace {

const Couplings kSxy{1.0, -1.0, 0.0, 1.0, 0.0};  // Jx Jy < 0, Jz = 0: sXY, vortices counted

// This rank's rows of the slab split (x, y, z blocks).
HostState my_rows(const Lattice& lat, const HostState& s) {
    int P = 1, r = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &P);
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    const Slab slab = make_slab(lat, P, r, 0);
    const std::size_t N = std::size_t(lat.sites()), n = std::size_t(slab.owned() * slab.row_sites),
                      first = std::size_t(slab.begin * slab.row_sites);
    HostState mine;
    for (int c = 0; c < 3; ++c) mine.insert(mine.end(), s.begin() + c * N + first, s.begin() + c * N + first + n);
    return mine;
}

// The classification from the ranks' parts against the serial one: the
// residual and the moving sites exactly (each site's ds/dt is the serial
// arithmetic, its neighbours' rows brought from the next ranks), the sums and
// the domain size (from S(k), at the sXY point from the phase field's) to roundoff.
void expect_same_classification(const Lattice& lat, const Couplings& c, const AnalysisOptions& opt, AnalysisParts got,
                                const HostState& s, const std::string& what) {
    const Classification want = Analyzer(lat, c, opt).analyze(s, 1.0, -1, "/final").cls;
    const Classification cls = complete_analysis(lat, c, opt, std::move(got), 1.0, -1, "/final").cls;
    EXPECT_EQ(cls.phase, want.phase) << what;
    EXPECT_EQ(cls.order, want.order) << what;
    EXPECT_EQ(cls.residual, want.residual) << what;
    EXPECT_EQ(cls.moving_fraction, want.moving_fraction) << what;
    EXPECT_GT(want.moving_fraction, 0.2) << what << ": the threshold must split the sites";
    EXPECT_LT(want.moving_fraction, 0.8) << what;
    EXPECT_NEAR(cls.m_perp, want.m_perp, 1e-13) << what;
    EXPECT_NEAR(cls.mean_z, want.mean_z, 1e-13) << what;
    EXPECT_NEAR(cls.psi_coherence, want.psi_coherence, 1e-13) << what;
    EXPECT_EQ(cls.peak.index, want.peak.index) << what;
    ASSERT_EQ(std::isfinite(cls.correlation_length), std::isfinite(want.correlation_length)) << what;
    if (std::isfinite(want.correlation_length))
        EXPECT_NEAR(cls.correlation_length, want.correlation_length, 1e-9 * want.correlation_length) << what;
    EXPECT_EQ(cls.reason, want.reason) << what;
}

// The stationarity threshold at the median |ds/dt| of s: half the sites move,
// so a site's rate computed from wrong neighbours would likely change the count.
AnalysisOptions splitting_options(const Lattice& lat, const Couplings& c, const HostState& s) {
    const HostState rate = rate_of(lat, c, s);
    const std::size_t N = std::size_t(lat.sites());
    std::vector<double> v(N);
    for (std::size_t n = 0; n < N; ++n) v[n] = std::sqrt(rate[n] * rate[n] + rate[N + n] * rate[N + n] + rate[2 * N + n] * rate[2 * N + n]);
    std::nth_element(v.begin(), v.begin() + N / 2, v.end());
    AnalysisOptions opt;
    opt.thresholds.stationary_residual = v[N / 2];
    return opt;
}

void expect_equal_to_serial(const Lattice& lat, const HostState& s, const std::string& what, const Couplings& c = kSxy) {
    const AnalysisOptions opt = splitting_options(lat, c, s);
    SlabAnalysis spread(MPI_COMM_WORLD, lat, c, opt);
    const AnalysisParts got = spread.compute(my_rows(lat, s));
    // Only the radial average stored: no rank gathers the grid (2D, 3D); rank 0
    // merges the ranks' reductions of their blocks of the half spectrum.
    AnalysisOptions radial = opt;
    radial.sk_storage = SkStorage::radial;
    SlabAnalysis spread_radial(MPI_COMM_WORLD, lat, c, radial);
    const AnalysisParts got_radial = spread_radial.compute(my_rows(lat, s));
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    if (r != 0) {
        EXPECT_TRUE(got.sf.S[0].empty()) << "only rank 0 holds the results";
        return;
    }
    expect_same_classification(lat, c, opt, got, s, what);
    expect_same_classification(lat, c, radial, got_radial, s, what + ", radial storage");
    if (lat.dim >= 2) {
        EXPECT_TRUE(got_radial.summarized) << what;
        EXPECT_TRUE(got_radial.sf.S[0].empty()) << what << ": the grid was gathered though only the radial average is stored";
        const SpectrumSummary want_sk = summarize_spectrum(StructureFactorEngine(lat).compute(s), true);
        const SpectrumSummary& sk = got_radial.sk;
        const double scale = want_sk.total_perp;
        EXPECT_NEAR(sk.total_perp, scale, 1e-12 * scale) << what;
        ASSERT_FALSE(sk.strongest.empty()) << what;
        EXPECT_EQ(sk.strongest[0].index, want_sk.strongest[0].index) << what;
        EXPECT_NEAR(sk.strongest[0].mirror_value, want_sk.strongest[0].mirror_value, 1e-12 * scale) << what;
        EXPECT_NEAR(sk.perp_k0, want_sk.perp_k0, 1e-12 * scale) << what;
        EXPECT_NEAR(sk.perp_kpi, want_sk.perp_kpi, 1e-12 * scale) << what;
        EXPECT_EQ(sk.radial.count, want_sk.radial.count) << what;
        for (int k = 0; k < 3; ++k) {
            ASSERT_EQ(sk.radial.S[k].size(), want_sk.radial.S[k].size()) << what;
            for (std::size_t b = 0; b < sk.radial.S[k].size(); ++b)
                EXPECT_NEAR(sk.radial.S[k][b], want_sk.radial.S[k][b], 1e-12 * scale) << what << ", bin " << b;
        }
        for (int a = 0; a < lat.dim; ++a) {
            ASSERT_EQ(sk.marginal[a].size(), want_sk.marginal[a].size()) << what;
            for (std::size_t b = 0; b < sk.marginal[a].size(); ++b)
                EXPECT_NEAR(sk.marginal[a][b], want_sk.marginal[a][b], 1e-12 * scale) << what << ", axis " << a;
        }
    }
    StructureFactorEngine serial(lat);
    const StructureFactor want = serial.compute(s);
    double largest = 0, worst = 0;
    for (int c = 0; c < 3; ++c) {
        ASSERT_EQ(got.sf.S[c].size(), want.S[c].size()) << what;
        for (std::size_t m = 0; m < want.S[c].size(); ++m) {
            largest = std::max(largest, want.S[c][m]);
            worst = std::max(worst, std::abs(got.sf.S[c][m] - want.S[c][m]));
        }
    }
    EXPECT_GT(largest, 0.5) << what;
    EXPECT_LE(worst, 1e-12 * largest) << what << ": S(k) differs by " << worst;
    if (!has_vortex_census(lat, c)) {
        EXPECT_FALSE(got.has_vortices);
        return;
    }
    ASSERT_TRUE(got.has_vortices) << what;
    const VortexCensus v = find_vortices(lat, c, s, opt.thresholds.vortex_amplitude);
    const VortexCensus& g = got.vortices;
    EXPECT_GT(v.vortices, 0) << what << ": the case must have vortices";
    expect_same_census(g, v, what);
}

TEST(SlabAnalysis, EqualsTheSerialAnalysisOfRandomStates) {
    // Sizes that do not divide by 3; odd and even x (the Nyquist column).
    const Lattice lats[] = {box(1, 101), box(2, 37, 29), box(2, 64, 16), box(3, 11, 12, 13), box(3, 8, 9, 10)};
    for (const Lattice& lat : lats)
        expect_equal_to_serial(lat, make_initial_state("random", lat, 7, 0), lattice_text(lat) + ", random");
    // Away from the sXY point (no phase field: the domain size from S_perp's peak).
    const Couplings sdw{4.0, 2.0, 1.0, 1.0, 0.0};
    for (const Lattice& lat : {box(1, 101), box(2, 37, 29), box(3, 11, 12, 13)})
        expect_equal_to_serial(lat, make_initial_state("random", lat, 8, 0), lattice_text(lat) + ", random, SDW point", sdw);
}

TEST(SlabAnalysis, FindsAPairAcrossTheSlabBoundary) {
    // A vortex-antivortex pair of the sXY phase, the vortex's plaquette based on
    // the last row of rank 0's slab (rows 0-6 of 20 over 3 ranks), whose upper
    // corners lie on rank 1: found only if the next row's phase crosses over.
    const Lattice lat = box(2, 24, 20);
    const index_t N = lat.sites();
    HostState s(3 * std::size_t(N));
    const double v[2] = {6.5, 6.5}, a[2] = {16.5, 12.5};
    for (index_t j = 0; j < lat.L[1]; ++j)
        for (index_t i = 0; i < lat.L[0]; ++i) {
            const double psi = std::atan2(j - v[1], i - v[0]) - std::atan2(j - a[1], i - a[0]);
            const index_t n = lat.site(i, j, 0);
            // A sites carry psi as their angle; B sites the angle whose M s has it
            // (Jx = -Jy = 1: psi_B = atan2(x, y), so the angle is pi/2 - psi).
            const double angle = Lattice::parity(i, j, 0) > 0 ? psi : M_PI / 2 - psi;
            s[n] = 0.8 * std::cos(angle), s[N + n] = 0.8 * std::sin(angle), s[2 * N + n] = -0.6;
        }
    const VortexCensus serial = find_vortices(lat, kSxy, s, 0.02);
    ASSERT_EQ(serial.vortices, 1);
    ASSERT_EQ(serial.antivortices, 1);
    expect_equal_to_serial(lat, s, "planted pair");
}

}  // namespace
}  // namespace xyzmf::test
