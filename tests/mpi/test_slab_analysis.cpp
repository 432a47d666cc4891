// The analysis of a lattice spread over ranks (src/mpi/slab_analysis.hpp)
// against the serial analysis of the same state, under 1 and 3 ranks: S(k) to
// roundoff, the vortex census (counts, skipped plaquettes, every vortex's
// position, orientation and charge, 3D lines) identical. The states are random
// ones at the sXY point, where nearly every plaquette winds or is skipped, and a
// planted vortex-antivortex pair across the boundary of two slabs.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>

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

void expect_equal_to_serial(const Lattice& lat, const HostState& s, const std::string& what) {
    AnalysisOptions opt;
    SlabAnalysis spread(MPI_COMM_WORLD, lat, kSxy, opt);
    const AnalysisParts got = spread.compute(my_rows(lat, s));
    int r = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &r);
    if (r != 0) {
        EXPECT_TRUE(got.sf.S[0].empty()) << "only rank 0 holds the results";
        return;
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
    if (lat.dim < 2) {
        EXPECT_FALSE(got.has_vortices);
        return;
    }
    ASSERT_TRUE(got.has_vortices) << what;
    const VortexCensus v = find_vortices(lat, kSxy, s, opt.thresholds.vortex_amplitude);
    const VortexCensus& g = got.vortices;
    EXPECT_GT(v.vortices, 0) << what << ": the case must have vortices";
    EXPECT_EQ(g.vortices, v.vortices) << what;
    EXPECT_EQ(g.antivortices, v.antivortices) << what;
    EXPECT_EQ(g.skipped, v.skipped) << what;
    EXPECT_EQ(g.plaquettes, v.plaquettes) << what;
    EXPECT_EQ(g.pierced, v.pierced) << what;
    EXPECT_EQ(g.lines, v.lines) << what;
    ASSERT_EQ(g.list.size(), v.list.size()) << what;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < v.list.size(); ++i)
        differ += g.list[i].normal != v.list[i].normal || g.list[i].charge != v.list[i].charge ||
                  g.list[i].pos[0] != v.list[i].pos[0] || g.list[i].pos[1] != v.list[i].pos[1] ||
                  g.list[i].pos[2] != v.list[i].pos[2];
    EXPECT_EQ(differ, 0u) << what << ": vortex lists differ (order included)";
}

TEST(SlabAnalysis, EqualsTheSerialAnalysisOfRandomStates) {
    // Sizes that do not divide by 3; odd and even x (the Nyquist column).
    const Lattice lats[] = {box(1, 101), box(2, 37, 29), box(2, 64, 16), box(3, 11, 12, 13), box(3, 8, 9, 10)};
    for (const Lattice& lat : lats)
        expect_equal_to_serial(lat, make_initial_state("random", lat, 7, 0), lattice_text(lat) + ", random");
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
