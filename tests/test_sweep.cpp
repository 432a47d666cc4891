// Batched sweeps: batching changes nothing, deep points classify as the
// stability analysis predicts, a killed sweep resumes without losing finished
// points, and merged shards equal the unsharded map.
#include "helpers.hpp"
#include "xyzmf/error.hpp"
#include "sweep.hpp"

namespace xyzmf::test {
namespace {

class Sweep : public ::testing::TestWithParam<BackendKind> {
protected:
    void SetUp() override { XYZMF_REQUIRE_BACKEND(GetParam()); }
};

TEST_P(Sweep, BatchOfLatticesEqualsSingleRunsBitForBit) {
    const Lattice one = lattice(2, 8);
    const std::vector<Couplings> points = {{2, 0, 1, 1, 0}, {-3, 1, 1, 1, 0.1}, {1, -1, 0, 1, 0}, {4, 2, 1, 1, 0},
                                           {4, 2, 1, 1, 0}};  // the last two: identical copies
    Lattice batch = one;
    batch.copies = index_t(points.size());
    const index_t Ns = one.sites();
    HostState state(3 * std::size_t(batch.sites()));
    std::vector<HostState> starts;
    for (std::size_t b = 0; b < points.size(); ++b) {
        starts.push_back(make_initial_state("random", one, 100 + (b < 4 ? b : 3), 0));
        for (int c = 0; c < 3; ++c)
            std::copy(starts[b].begin() + c * Ns, starts[b].begin() + (c + 1) * Ns, state.begin() + c * batch.sites() + b * Ns);
    }
    const HostState fin = evolve_batch(batch, points, state, {0.01, 2.005, 0, 1e-4}, Precision::float64, GetParam());
    for (std::size_t b = 0; b < points.size(); ++b) {
        RunConfig c = config(one, points[b].Jx, points[b].Jy, points[b].Jz, points[b].gamma, points[b].gamma_phi);
        c.numerics.t_end = 2.005;  // last step shortened, in both
        const HostState single = evolve(c, GetParam(), starts[b]);
        for (int comp = 0; comp < 3; ++comp)
            for (index_t n = 0; n < Ns; ++n)
                ASSERT_EQ(fin[comp * batch.sites() + b * Ns + n], single[comp * Ns + n]) << "copy " << b;
    }
}

SweepConfig small_sweep(const std::string& out, BackendKind kind) {
    SweepConfig c;
    c.grid = {parse_axis("Jx:-3:3:2", "--x"), parse_axis("Jy:0:0.5:2", "--y"), {0, 0, 1, 1, 0}};
    c.lattice = lattice(2, 16);
    c.replicas = 2;
    c.numerics.t_end = 120;
    c.numerics.dt = 0.02;
    c.batch_points = 1;
    c.backend = kind == BackendKind::cpu ? BackendRequest::cpu : BackendRequest::cuda;
    c.output = out;
    return c;
}

TEST_P(Sweep, DeepFmAndAfmPointsAgreeWithStability) {
    ScratchDir dir;
    const SweepConfig c = small_sweep(dir.file("s.h5"), GetParam());
    run_sweep(c, false);
    SweepConfig back;
    const SweepResults r = read_sweep(c.output, back);
    // Jx = -3 -> AFM, Jx = 3 -> FM (physics.md 3.5 and the staggered map), for Jy in {0, 0.5}.
    for (int p = 0; p < 4; ++p) {
        EXPECT_EQ(r.predicted[p], p % 2 == 0 ? kAFM : kFM) << "point " << p;
        for (int rep = 0; rep < 2; ++rep) {
            const std::size_t e = std::size_t(p) * 2 + rep;
            EXPECT_NE(r.agree[e], 0) << "point " << p << " replica " << rep << ": phase " << r.phase[e];
            EXPECT_EQ(r.order[e], r.predicted[p]);
            EXPECT_GT(r.m_perp[e], 0.3);
        }
    }
}

TEST_P(Sweep, ResumeAfterAKillLosesNoFinishedPoint) {
    ScratchDir dir;
    const SweepConfig whole = small_sweep(dir.file("whole.h5"), GetParam());
    run_sweep(whole, false);
    SweepConfig killed = small_sweep(dir.file("killed.h5"), GetParam());
    SweepHooks kill;
    kill.kill_after_batches = 2;
    EXPECT_THROW(run_sweep(killed, false, kill), Error);
    SweepConfig tmp;
    SweepResults partial = read_sweep(killed.output, tmp);
    int done = 0;
    for (auto v : partial.phase) done += v != kNotDone;
    EXPECT_EQ(done, 2 * 2);  // two batches of one point x two replicas
    const SweepSummary s = run_sweep(killed, true);
    EXPECT_EQ(s.points_skipped, 2);
    EXPECT_EQ(s.points_done, 2);
    SweepConfig a, b;
    const SweepResults x = read_sweep(whole.output, a), y = read_sweep(killed.output, b);
    EXPECT_EQ(x.phase, y.phase);
    EXPECT_EQ(x.m_perp, y.m_perp);
    EXPECT_EQ(x.k, y.k);
}

TEST_P(Sweep, MergedShardsEqualTheUnshardedMap) {
    ScratchDir dir;
    const SweepConfig whole = small_sweep(dir.file("whole.h5"), GetParam());
    run_sweep(whole, false);
    std::vector<std::string> shards;
    for (int i = 0; i < 3; ++i) {
        SweepConfig c = small_sweep(dir.file("shard" + std::to_string(i) + ".h5"), GetParam());
        c.shard_index = i;
        c.shard_count = 3;
        run_sweep(c, false);
        shards.push_back(c.output);
    }
    const CommandResult r = run_xyzmf("merge -o " + dir.file("merged.h5") + " " + shards[0] + " " + shards[1] + " " + shards[2]);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    SweepConfig a, b;
    const SweepResults x = read_sweep(whole.output, a), y = read_sweep(dir.file("merged.h5"), b);
    EXPECT_EQ(x.phase, y.phase);
    EXPECT_EQ(x.agree, y.agree);
    EXPECT_EQ(x.m_perp, y.m_perp);
    EXPECT_EQ(x.predicted, y.predicted);
    // a shard alone is incomplete
    SweepConfig c0;
    const SweepResults s0 = read_sweep(shards[0], c0);
    EXPECT_NE(std::count(s0.phase.begin(), s0.phase.end(), kNotDone), 0);
}

INSTANTIATE_TEST_SUITE_P(Backends, Sweep, ::testing::ValuesIn(all_backends()), backend_name);

}  // namespace
}  // namespace xyzmf::test
