// Batched sweeps: batching changes nothing, deep points classify as the
// stability analysis predicts, a killed sweep resumes without losing finished
// points, and merged shards equal the unsharded map.
#include "helpers.hpp"
#include "hdf5.hpp"
#include "xyzmf/error.hpp"
#include "sweep.hpp"
#include "sweep_slots.hpp"
#include "analysis.hpp"

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
    auto start = [](std::int64_t b) { return make_initial_state("random", lattice(2, 8), 100 + (b < 4 ? b : 3), 0); };
    std::vector<SlotOutcome> fin(points.size());
    run_in_slots(one, std::int64_t(points.size()), std::int64_t(points.size()),
                 [&](std::int64_t b) { return points[std::size_t(b)]; }, start, {0.01, 2.005, 0, 1e-4},
                 Precision::float64, GetParam(), [&](SlotEndings& ended) {
                     for (auto& [b, o] : ended) fin[std::size_t(b)] = std::move(o);
                 });
    for (std::size_t b = 0; b < points.size(); ++b) {
        RunConfig c = config(one, points[b].Jx, points[b].Jy, points[b].Jz, points[b].gamma, points[b].gamma_phi);
        c.numerics.t_end = 2.005;  // last step shortened, in both
        const HostState single = evolve(c, GetParam(), start(std::int64_t(b)));
        EXPECT_EQ(fin[b].t_final, 2.005);
        ASSERT_EQ(fin[b].state.size(), single.size());
        for (std::size_t n = 0; n < single.size(); ++n) ASSERT_EQ(fin[b].state[n], single[n]) << "copy " << b;
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
    // A replica that has come to rest in one domain holds the fixed point's amplitude
    // (physics.md 3.6; for the AFM points that of the FM at (-Jx, -Jy)). (Domain walls
    // at rest change it: 0.576 against 0.539 at (-3, 0).)
    auto fm_amplitude = [](double Jx, double Jy) {
        const double Jz = 1, gamma = 1, G = gamma / 2;
        const double z = -G / (2 * std::sqrt(-(Jx - Jz) * (Jy - Jz)));
        const double x2 = G * gamma * (1 + z) / (4 * (Jx - Jy) * (Jz - Jx) * z);
        const double y = (2 / G) * (Jz - Jx) * std::sqrt(x2) * z;
        return std::sqrt(x2 + y * y);
    };
    int at_rest = 0;
    for (int p = 0; p < 4; ++p) {
        EXPECT_EQ(r.predicted[p], p % 2 == 0 ? kAFM : kFM) << "point " << p;
        const double Jx = p % 2 == 0 ? -3 : 3, Jy = p < 2 ? 0 : 0.5;
        const double m = Jx > 0 ? fm_amplitude(Jx, Jy) : fm_amplitude(-Jx, -Jy);
        for (int rep = 0; rep < 2; ++rep) {
            const std::size_t e = std::size_t(p) * 2 + rep;
            EXPECT_NE(r.agree[e], 0) << "point " << p << " replica " << rep << ": phase " << r.phase[e];
            EXPECT_EQ(r.order[e], r.predicted[p]);
            EXPECT_GT(r.m_perp[e], 0.3);
            if (r.phase[e] == r.predicted[p] && r.residual[e] < 1e-6) {
                ++at_rest;
                EXPECT_NEAR(r.m_perp[e], m, 1e-5) << "point " << p << " replica " << rep;
            }
        }
    }
    EXPECT_GE(at_rest, 2) << "too few replicas at rest to compare with the fixed point";
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
    // The resume commits the last two points together: a batch size given to a
    // resume is used (it was ignored: the file's was taken) and recorded.
    killed.batch_points = 2;
    const SweepSummary s = run_sweep(killed, true);
    EXPECT_EQ(s.points_skipped, 2);
    EXPECT_EQ(s.points_done, 2);
    EXPECT_EQ(s.batches, 1);
    SweepConfig a, b;
    const SweepResults x = read_sweep(whole.output, a), y = read_sweep(killed.output, b);
    EXPECT_EQ(x.phase, y.phase);
    EXPECT_EQ(x.m_perp, y.m_perp);
    EXPECT_EQ(x.k, y.k);
    EXPECT_EQ(b.batch_points, 2);
    // A resume of the finished file computes nothing and changes neither the backend
    // that computed it nor its batch size.
    h5::set_attr(h5::open_file(killed.output, true), "backend", std::string("the backend that made it"));
    killed.batch_points = 5;
    EXPECT_EQ(run_sweep(killed, true).points_done, 0);
    SweepConfig c;
    read_sweep(killed.output, c);
    EXPECT_EQ(c.batch_points, 2);
    EXPECT_EQ(h5::attr_string(h5::open_file(killed.output, false), "backend"), "the backend that made it");
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
    const CommandResult r =
        run_xyzmf_all_output("merge -o " + dir.file("merged.h5") + " " + shards[0] + " " + shards[1] + " " + shards[2]);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    SweepConfig a, b;
    const SweepResults x = read_sweep(whole.output, a), y = read_sweep(dir.file("merged.h5"), b);
    EXPECT_EQ(x.phase, y.phase);
    EXPECT_EQ(x.agree, y.agree);
    EXPECT_EQ(x.m_perp, y.m_perp);
    EXPECT_EQ(x.predicted, y.predicted);
    EXPECT_NE(r.stderr_text.find("; 0 points not done)"), std::string::npos) << r.stderr_text;
    for (std::int64_t batch : y.batch) EXPECT_EQ(batch, 0);  // (no shard's batch numbers)
    // The map keeps its shards' provenance: each one's path and command line.
    const std::string from = h5::attr_string(h5::open_file(dir.file("merged.h5"), false), "merged_from");
    for (const std::string& shard : shards) EXPECT_NE(from.find(shard + ": "), std::string::npos) << from;
    // a shard alone is incomplete
    SweepConfig c0;
    const SweepResults s0 = read_sweep(shards[0], c0);
    EXPECT_NE(std::count(s0.phase.begin(), s0.phase.end(), kNotDone), 0);
}

// Each lattice of a sweep runs on its own clock in a slot (src/phase/sweep_slots.hpp):
// stationary points stop early and free their slot for the next. Its result must
// be what it gives alone: the same whatever the batch size (slots), bit for bit,
// and what a single run to its own t_final gives.
SweepConfig settling_sweep(const std::string& out, BackendKind kind, int batch_points, double t_end) {
    SweepConfig c;
    // FM (Jx = 2), AFM (Jx = -2) and XXZ (Jx = Jy, PM) points settle fast, the
    // rest of the grid more slowly or not before t_end.
    c.grid = {parse_axis("Jx:-2:2:3", "--x"), parse_axis("Jy:0:1:3", "--y"), {0, 0, 1, 1, 0}};
    c.lattice = lattice(2, 6);
    c.replicas = 2;
    c.numerics = {0.02, t_end, 1e-3, 1e-4};
    c.batch_points = batch_points;
    c.backend = kind == BackendKind::cpu ? BackendRequest::cpu : BackendRequest::cuda;
    c.output = out;
    return c;
}

void expect_same_results(const SweepResults& x, const SweepResults& y, const std::string& what) {
    EXPECT_EQ(x.phase, y.phase) << what;
    EXPECT_EQ(x.order, y.order) << what;
    EXPECT_EQ(x.m_perp, y.m_perp) << what;
    EXPECT_EQ(x.residual, y.residual) << what;
    EXPECT_EQ(x.t_final, y.t_final) << what;
    EXPECT_EQ(x.k, y.k) << what;
    EXPECT_EQ(x.peak_weight, y.peak_weight) << what;
}

TEST_P(Sweep, EachLatticeEndsAsItWouldAloneWhateverItsSlot) {
    ScratchDir dir;
    // t_end 40 (whole checks: slots refilled at once) and 30.01 (a shortened
    // last step: lattices run in groups, each still stopping on its own).
    for (double t_end : {40.0, 30.01}) {
        std::vector<SweepResults> all;
        std::vector<long long> steps;
        for (int batch : {1, 2, 9}) {
            const SweepConfig c = settling_sweep(dir.file("b" + std::to_string(batch) + ".h5"), GetParam(), batch, t_end);
            SweepConfig back = c;
            back.overwrite = true;
            steps.push_back(run_sweep(back, false).site_steps);
            SweepConfig read;
            all.push_back(read_sweep(c.output, read));
        }
        for (std::size_t i = 1; i < all.size(); ++i) {
            expect_same_results(all[i], all[0], "t_end " + std::to_string(t_end) + ", batch " + std::to_string(i));
            EXPECT_EQ(steps[i], steps[0]) << "every lattice takes its own steps, whatever shares its batch";
        }
        // Some lattices stopped early, some ran to t_end: the case is not trivial.
        const SweepResults& r = all[0];
        const double early = *std::min_element(r.t_final.begin(), r.t_final.end());
        const double late = *std::max_element(r.t_final.begin(), r.t_final.end());
        EXPECT_LE(early, t_end - 10) << "no lattice settled early";
        EXPECT_EQ(late, t_end) << "every lattice settled";
        // A lattice alone, run to the time it stopped at, is the stored one.
        const SweepConfig c = settling_sweep("", GetParam(), 1, t_end);
        for (int p : {0, 4, 8}) {
            for (int rep = 0; rep < 2; ++rep) {
                const std::size_t e = std::size_t(p) * 2 + rep;
                const Couplings k = c.grid.at(p);
                RunConfig one = config(c.lattice, k.Jx, k.Jy, k.Jz, k.gamma, k.gamma_phi);
                one.numerics.dt = 0.02;
                one.numerics.t_end = r.t_final[e];
                const HostState s = evolve(one, GetParam(), make_initial_state("random", c.lattice, c.seed + rep, 0));
                const StateAnalysis a = Analyzer(c.lattice, k, c.analysis).analyze(s, r.t_final[e], -1, "");
                EXPECT_EQ(a.cls.m_perp, r.m_perp[e]) << "point " << p << " replica " << rep;
                EXPECT_EQ(a.cls.residual, r.residual[e]) << "point " << p << " replica " << rep;
                // the period: the wavelength along its peak k, as analyze prints it
                double k2 = 0;
                for (int ax = 0; ax < c.lattice.dim; ++ax) k2 += a.cls.peak.k[ax] * a.cls.peak.k[ax];
                EXPECT_EQ(r.period[e], k2 > 0 ? 2 * M_PI / std::sqrt(k2) : 0.0) << "point " << p << " replica " << rep;
            }
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Backends, Sweep, ::testing::ValuesIn(all_backends()), backend_name);

}  // namespace
}  // namespace xyzmf::test
