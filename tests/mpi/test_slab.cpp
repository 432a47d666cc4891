// One lattice over MPI ranks (src/mpi/slab.hpp) against the serial stepper:
// run under mpiexec with 1 and 3 ranks (tests/CMakeLists.txt), each case steps the
// whole lattice serially on every rank and the same lattice in slabs, and the
// two states must be equal bit for bit, in 1D, 2D and 3D, on sizes that do not
// divide by the ranks, on the four-sweep path and with fused passes of one and
// two steps (ghost rows of 4 and 8). Slabs thinner than their ghost rows are
// refused with a message that says how many ranks fit. The ghost rows travel
// in place and through host buffers, after each pass and overlapped with it
// (sent from two edge strips stepped first), or as the first pass measured.
#include <gtest/gtest.h>
#include <mpi.h>

#include <string>

#include "box.hpp"
#include "slab.hpp"
#include "initial_state.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf::test {
namespace {

int rank_count() {
    int p = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &p);
    return p;
}

const Couplings kPoint{2.3, -1.1, 0.7, 0.6, 0.05};  // strong exchange: a wrong ghost row shows at once

struct Case {
    Lattice lat;
    std::int64_t steps;
    int per_pass;  // the serial choice this case is meant to exercise (0: four sweeps)
};

void expect_slabs_equal_serial(const Case& k, bool staged, HaloExchange halo) {
    auto be = make_cpu_backend<double>();
    const HostState s0 = make_initial_state("random", k.lat, 41, 0);
    // Serial, as `xyzmf run` steps it (the backend's choice of stepper).
    Rk4<double> serial(*be, k.lat, kPoint);
    ASSERT_EQ(serial.stepper() == Rk4Stepper::four_sweep ? 0 : serial.steps_per_pass(), k.per_pass)
        << lattice_text(k.lat) << ": the case must exercise the path it names";
    StateBuffer<double> y(*be, k.lat);
    upload_state(*be, y, s0.data(), k.lat);
    serial.advance(y, 0.01, k.steps);
    HostState ref(s0.size());
    download_state(*be, ref.data(), y, k.lat);

    SlabStepper<double> slabs(*be, MPI_COMM_WORLD, k.lat, kPoint, staged, halo);
    ASSERT_EQ(slabs.overlapped(), halo != HaloExchange::after_pass);
    slabs.set_from_global(s0);
    slabs.advance(0.01, k.steps - 1);
    slabs.advance(0.01, 1);  // a pass shorter than the others
    const HostState got = slabs.gather_all();
    ASSERT_EQ(got.size(), ref.size());
    std::size_t differ = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) differ += got[i] != ref[i];
    EXPECT_EQ(differ, 0u) << lattice_text(k.lat) << " over " << rank_count() << " ranks"
                          << (staged ? ", through host buffers" : ", in place")
                          << (halo == HaloExchange::overlap      ? ", overlapped with the pass"
                              : halo == HaloExchange::after_pass ? ", after the pass"
                                                                 : ", overlapped where measured faster");
    double moved = 0;
    for (std::size_t i = 0; i < ref.size(); ++i) moved = std::max(moved, std::abs(ref[i] - s0[i]));
    EXPECT_GT(moved, 1e-3) << "the state must really move";
}

TEST(Slabs, EqualTheSerialStateBitForBit) {
    const Case cases[] = {
        {box(1, 61), 200, 0},             // four sweeps, ghost rows of 4
        {box(1, 3001), 200, 2},           // two fused steps a pass, ghost rows of 8
        {box(2, 37, 45), 200, 0},
        {box(2, 130, 129), 100, 2},
        {box(3, 19, 11, 23), 100, 0},
        {box(3, 67, 65, 66), 20, 1},      // one fused step a pass in 3D
    };
    // In place (MPI reads the CPU backend's state) and through host buffers
    // (the path of a GPU without CUDA-aware MPI); after each pass, during it,
    // or as measured (the first pass after, then either: the choice, made from
    // timings, must not change a bit).
    for (const Case& k : cases)
        for (bool staged : {false, true})
            for (HaloExchange halo : {HaloExchange::after_pass, HaloExchange::overlap, HaloExchange::automatic})
                expect_slabs_equal_serial(k, staged, halo);
}

// Each rank draws its own rows of an initial state (mpirun xyzmf run): the state
// assembled from the slabs is the state drawn whole, bit for bit, and the ghost
// rows come from the neighbours.
TEST(Slabs, RowsDrawnByEachRankAreTheWholeDrawnState) {
    auto be = make_cpu_backend<double>();
    for (const Lattice& lat : {box(1, 61), box(2, 37, 45), box(3, 19, 11, 23)})
        for (const char* spec : {"random", "pm-noise", "uniform:0.1,-0.2,-0.3"}) {
            const HostState whole = make_initial_state(spec, lat, 77, 0.3);
            SlabDomain<double> d(*be, MPI_COMM_WORLD, lat, Rk4Stepper::fused, 0);
            StateBuffer<double> y(*be, d.local());
            d.set_own_sites(make_initial_sites(spec, lat, 77, 0.3, d.first_owned_site(), d.owned_sites()), y);
            HostState got(whole.size());
            d.gather(y, got.data());
            MPI_Bcast(got.data(), int(got.size()), MPI_DOUBLE, 0, MPI_COMM_WORLD);
            std::size_t differ = 0;
            for (std::size_t i = 0; i < whole.size(); ++i) differ += got[i] != whole[i];
            EXPECT_EQ(differ, 0u) << spec << ", " << lattice_text(lat) << " over " << rank_count() << " ranks";
            // The ghost rows below the first owned row: the last rows of the rank below.
            const Slab& s = d.slab();
            const index_t S = s.local.component_stride(), R = s.row_sites, first = ((s.begin - s.halo) % s.rows + s.rows) % s.rows;
            std::vector<double> ghost(static_cast<std::size_t>(R));
            be->download(ghost.data(), y.data() + 2 * S, std::size_t(R));  // z of the first ghost row
            std::size_t wrong = 0;  // (no ASSERT: a rank that returned early would leave the others waiting)
            for (index_t n = 0; n < R; ++n) wrong += ghost[std::size_t(n)] != whole[std::size_t(2 * lat.sites() + first * R + n)];
            EXPECT_EQ(wrong, 0u) << spec << ": the ghost row below rank " << s.begin << "'s rows";
        }
}

TEST(Slabs, ThinSlabsAreRefusedWithTheRanksThatFit) {
    const Lattice lat = box(2, 64, 10);
    const int P = 4;
    try {
        make_slab(lat, P, 0, 4);
        FAIL() << "10 rows over 4 ranks with ghost rows of 4 must be refused";
    } catch (const Error& e) {
        EXPECT_EQ(e.exit_code(), exit_code::usage);
        EXPECT_NE(std::string(e.what()).find("64x10 (2D) over 4 ranks leaves 2 y-rows a rank, fewer than the 4 ghost rows"),
                  std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("run at most 2 ranks"), std::string::npos) << e.what();
    }
    // Balanced: 10 rows over 3 ranks are 4, 3, 3.
    EXPECT_EQ(make_slab(lat, 3, 0, 3).owned(), 4);
    EXPECT_EQ(make_slab(lat, 3, 1, 3).begin, 4);
    EXPECT_EQ(make_slab(lat, 3, 2, 3).end, 10);
    EXPECT_EQ(make_slab(lat, 3, 2, 3).local.L[1], 3 + 2 * 3);
}

}  // namespace
}  // namespace xyzmf::test

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    ::testing::InitGoogleTest(&argc, argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    // One report: the other ranks' failures show in the exit code.
    if (rank != 0) delete ::testing::UnitTest::GetInstance()->listeners().Release(
        ::testing::UnitTest::GetInstance()->listeners().default_result_printer());
    int failed = RUN_ALL_TESTS() != 0, any = 0;
    MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any;
}
