// HDF5 output and the run's contract with the user's files: round trip,
// provenance, overwrite refusal, resume bit-identity after a kill, foreign
// and corrupt files, and a blow-up that keeps the snapshots already written.
#include <fcntl.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "helpers.hpp"
#include "chunk_filters.hpp"
#include "dataset_units.hpp"
#include "hdf5.hpp"
#include "xyzmf/error.hpp"
#include "schema.hpp"
#include "run_journal.hpp"
#include "run_output.hpp"

namespace xyzmf::test {
namespace {

class Io : public ::testing::TestWithParam<BackendKind> {
protected:
    void SetUp() override { XYZMF_REQUIRE_BACKEND(GetParam()); }
};

RunConfig file_config(const std::string& path) {
    RunConfig c = config(lattice(2, 12), 1.0, -1.0, 0.0);
    c.lattice.L[1] = 8;  // 12 x 8: the (Ly, Lx, 3) order is checked
    c.numerics.t_end = 2;
    c.numerics.record_every = 0.25;
    c.numerics.snapshot_every = 0.5;
    c.output = path;
    c.command_line = "xyzmf run (test)";
    return c;
}

template <class Real>
HostState run_to_file(const RunConfig& c, BackendKind kind, const HostState& s0, const RunHooks& hooks = {}) {
    auto be = make_backend<Real>(kind);
    Simulation<Real> sim(c, *be);
    sim.set_state(s0);
    RunOutput out(c, be->description());
    sim.run(&out, {}, hooks);
    return sim.state();
}

TEST_P(Io, FinalStateAndParametersRoundTrip) {
    ScratchDir dir;
    const RunConfig c = file_config(dir.file("a.h5"));
    const HostState s0 = make_initial_state("random", c.lattice, 5, 0);
    const HostState fin = run_to_file<double>(c, GetParam(), s0);

    const StoredState st = read_stored_state(c.output);
    EXPECT_EQ(st.where, "/final");
    EXPECT_EQ(st.t, 2.0);
    EXPECT_EQ(st.spins, fin);  // bit for bit
    const StoredState first = [&] {
        h5::Id f = h5::open_file(c.output, false);
        std::vector<hsize_t> dims;
        const std::vector<double> aos = h5::read_array(f, "/snapshots/000000/spins", dims);
        EXPECT_EQ(dims, (std::vector<hsize_t>{8, 12, 3}));
        // site (i, j) = (3, 5) is row 5, column 3, and holds the initial state
        const index_t n = 3 + 12 * 5, N = 96;
        for (int comp = 0; comp < 3; ++comp) EXPECT_EQ(aos[3 * n + comp], s0[comp * N + n]);
        EXPECT_EQ(h5::table_rows(f, "/timeseries/t"), 9u);  // t = 0, 0.25, ..., 2
        EXPECT_EQ(h5::attr_string(f, "schema"), "xyzmf");
        EXPECT_EQ(h5::attr_string(f, "command_line"), "xyzmf run (test)");
        EXPECT_EQ(h5::attr_string(f, "status").rfind("finished", 0), 0u);
        EXPECT_TRUE(h5::has_attr(f, "xyzmf_version"));
        EXPECT_TRUE(h5::has_attr(f, "created"));
        return StoredState{};
    }();
    (void)first;

    const RunConfig back = read_run_config(c.output);
    EXPECT_EQ(back.couplings.Jx, 1.0);
    EXPECT_EQ(back.couplings.Jy, -1.0);
    EXPECT_EQ(back.lattice.L[0], 12);
    EXPECT_EQ(back.lattice.L[1], 8);
    EXPECT_EQ(back.numerics.snapshot_every, 0.5);
    EXPECT_EQ(back.precision, Precision::float64);
}

// Snapshots cut the time loop into shorter passes and copy the state out while
// the next steps run (on CUDA from a staging buffer, on a second stream); none
// of that may change the numbers: the run equals one without a file, bit for
// bit, in every dimension, on the backend's default (fastest) stepper.
TEST_P(Io, SnapshotsDoNotChangeTheRunBitForBit) {
    ScratchDir dir;
    int n = 0;
    for (int dim = 1; dim <= 3; ++dim) {
        RunConfig c = file_config(dir.file("s" + std::to_string(n++) + ".h5"));
        c.lattice = lattice(dim, dim == 1 ? 1000 : dim == 2 ? 70 : 20);
        c.numerics.steps_per_pass = 0;  // the backend's choice
        c.numerics.t_end = 1.5;
        c.numerics.record_every = 0.07;
        c.numerics.snapshot_every = 0.13;
        const HostState s0 = make_initial_state("random", c.lattice, 9, 0);
        const HostState with = run_to_file<double>(c, GetParam(), s0);
        RunConfig plain = c;
        plain.output.clear();
        plain.numerics.record_every = 1e9;
        plain.numerics.snapshot_every = 0;
        EXPECT_EQ(with, evolve(plain, GetParam(), s0)) << "d = " << dim;
        EXPECT_GT(max_abs_diff(with, s0), 1e-3);
        EXPECT_GE(h5::table_rows(h5::open_file(c.output, false), "/timeseries/t"), 20u) << "records were written";
    }
}

TEST_P(Io, RefusesToOverwriteWithoutPermission) {
    ScratchDir dir;
    const std::string path = dir.file("keep.h5");
    { std::ofstream(path) << "precious"; }
    RunConfig c = file_config(path);
    auto text = [&] {
        std::ifstream in(path);
        std::string t;
        in >> t;
        return t;
    };
    EXPECT_THROW({ RunOutput out(c, "cpu"); }, Error);
    EXPECT_EQ(text(), "precious");
    // --overwrite replaces the file only once the new one holds a state: an
    // output abandoned before its first snapshot leaves the old file as it was.
    c.overwrite = true;
    EXPECT_NO_THROW({ RunOutput out(c, "cpu"); });
    EXPECT_EQ(text(), "precious");
}

// Resumes b's file through the program, exactly as a user would, and expects
// the uninterrupted run a's: final state, steps and time series, bit for bit.
void expect_resume_equals(const RunConfig& a, const RunConfig& b, BackendKind kind) {
    const CommandResult r = run_xyzmf("run -q --resume " + b.output + " --backend " +
                                      (kind == BackendKind::cpu ? "cpu" : "cuda"));
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const StoredState x = read_stored_state(a.output), y = read_stored_state(b.output);
    EXPECT_EQ(x.spins, y.spins) << "resumed final state differs from the uninterrupted run";
    EXPECT_EQ(x.step, y.step);
    h5::Id fa = h5::open_file(a.output, false), fb = h5::open_file(b.output, false);
    for (const char* series : {"/timeseries/t", "/timeseries/mean"}) {
        std::vector<hsize_t> da, db;
        EXPECT_EQ(h5::read_array(fa, series, da), h5::read_array(fb, series, db)) << series;
        EXPECT_EQ(da, db) << series;
    }
}

template <class Real>
void check_resume_is_bit_identical(BackendKind kind) {
    ScratchDir dir;
    RunConfig a = file_config(dir.file("whole.h5")), b = file_config(dir.file("killed.h5"));
    const HostState s0 = make_initial_state("random", a.lattice, 8, 0);
    a.precision = b.precision = sizeof(Real) == 4 ? Precision::float32 : Precision::float64;
    const HostState whole = run_to_file<Real>(a, kind, s0);

    RunHooks kill;
    kill.kill_after_steps = 137;  // t = 1.37: between the snapshots at 1.0 and 1.5
    EXPECT_THROW(run_to_file<Real>(b, kind, s0, kill), Error);
    EXPECT_FALSE(h5::exists(h5::open_file(b.output, false), "/final"));

    expect_resume_equals(a, b, kind);
    h5::Id fa = h5::open_file(a.output, false), fb = h5::open_file(b.output, false);
    std::vector<hsize_t> da, db;
    EXPECT_EQ(h5::read_array(fa, "/snapshots/000003/spins", da), h5::read_array(fb, "/snapshots/000003/spins", db));
}

TEST_P(Io, ResumeAfterAKillReproducesTheUninterruptedRunBitForBit) {
    check_resume_is_bit_identical<double>(GetParam());
    check_resume_is_bit_identical<float>(GetParam());
}

// dopri5 lands on every record and snapshot time, k x interval. Products that
// differ by rounding are one event: 3 x 0.3 = 0.8999999999999999 is t_end 0.9
// (it was a row of its own, then a step of 1e-16 to a duplicate last row), and
// 6 x 0.051 = 0.306 is 18 x 0.017 = 0.30600000000000005 (a resume from that
// snapshot skipped the record, one row short of the uninterrupted run).
TEST_P(Io, DopriEventsThatDifferByRoundingAreOneAndAResumeKeepsThemAll) {
    ScratchDir dir;
    RunConfig c = file_config(dir.file("d.h5"));
    c.numerics.integrator = IntegratorKind::dopri5;
    c.numerics.t_end = 0.9;
    c.numerics.record_every = c.numerics.snapshot_every = 0.3;
    const HostState s0 = make_initial_state("random", c.lattice, 8, 0);
    (void)run_to_file<double>(c, GetParam(), s0);
    {
        h5::Id f = h5::open_file(c.output, false);
        std::vector<hsize_t> dims;
        EXPECT_EQ(h5::read_array(f, "/timeseries/t", dims), (std::vector<double>{0, 0.3, 0.6, 0.9}));
        EXPECT_EQ(read_state_group(f, c.output, snapshot_group(3)).t, 0.9);
        EXPECT_FALSE(h5::exists(f, snapshot_group(4)));
    }
    RunConfig a = file_config(dir.file("whole.h5")), b = file_config(dir.file("killed.h5"));
    for (RunConfig* r : {&a, &b}) {
        r->numerics.integrator = IntegratorKind::dopri5;
        r->numerics.t_end = 0.5;
        r->numerics.record_every = 0.017;
        r->numerics.snapshot_every = 0.051;
        r->numerics.dt = 0.017;  // (the first trial step: every step is then one record interval)
    }
    ASSERT_NE(6 * 0.051, 18 * 0.017);  // (the case this test is for)
    (void)run_to_file<double>(a, GetParam(), s0);
    RunHooks kill;
    // After snapshot 7 (t = 0.357, step 21) here; before, each snapshot but the 5th took a
    // step of its own to its record, and step 23 followed snapshot 6 (0.306).
    kill.kill_after_steps = 23;
    EXPECT_THROW(run_to_file<double>(b, GetParam(), s0, kill), Error);
    expect_resume_equals(a, b, GetParam());
    std::vector<hsize_t> dims;
    EXPECT_EQ(h5::read_array(h5::open_file(b.output, false), "/timeseries/t", dims).size(), 31u);
    // (0, 0.017, ..., 29 x 0.017 = 0.493, and t_end 0.5)
}

TEST_P(Io, BlowUpStopsWithAClearErrorAndKeepsSnapshots) {
    ScratchDir dir;
    const std::string out = dir.file("blow.h5");
    const std::string backend = GetParam() == BackendKind::cpu ? "cpu" : "cuda";
    const CommandResult r = run_xyzmf("run --backend " + backend + " --Jx 6 --Jy -6 --Jz 3 --dt 0.6 --size 16 "
                                      "--t-end 200 --snapshot-every 1.2 --record-every 0.6 -o " + out);
    EXPECT_EQ(r.exit_code, exit_code::blow_up) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("blow-up at t = "), std::string::npos) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("smaller --dt"), std::string::npos) << r.stderr_text;
    h5::Id f = h5::open_file(out, false);
    EXPECT_EQ(h5::attr_string(f, "status").rfind("blow-up", 0), 0u);
    EXPECT_TRUE(h5::exists(f, "/snapshots/000000/spins"));
    EXPECT_FALSE(h5::exists(f, "/final"));
}

// Snapshots between records are checked by the writer thread on their host
// copy: the blow-up is still caught, the bad state is never stored, and every
// snapshot in the file is a valid state.
TEST_P(Io, BlowUpBetweenRecordsIsCaughtByTheWriterAndNeverStored) {
    ScratchDir dir;
    const std::string out = dir.file("blow.h5");
    const std::string backend = GetParam() == BackendKind::cpu ? "cpu" : "cuda";
    const CommandResult r = run_xyzmf("run --backend " + backend + " --Jx 6 --Jy -6 --Jz 3 --dt 0.6 --size 16 "
                                      "--t-end 200 --snapshot-every 0.6 --record-every 1000 -o " + out);
    EXPECT_EQ(r.exit_code, exit_code::blow_up) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("blow-up at t = "), std::string::npos) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("last good snapshot"), std::string::npos) << r.stderr_text;
    h5::Id f = h5::open_file(out, false);
    EXPECT_EQ(h5::attr_string(f, "status").rfind("blow-up", 0), 0u);
    EXPECT_FALSE(h5::exists(f, "/final"));
    int snapshots = 0;
    for (;; ++snapshots) {
        const std::string g = snapshot_group(snapshots);
        if (!h5::exists(f, g)) break;
        std::vector<hsize_t> dims;
        const std::vector<double> s = h5::read_array(f, g + "/spins", dims);
        for (std::size_t n = 0; n + 2 < s.size(); n += 3) {
            const double s2 = s[n] * s[n] + s[n + 1] * s[n + 1] + s[n + 2] * s[n + 2];
            ASSERT_LE(s2, (1 + 1e-4) * (1 + 1e-4)) << g;  // finite and inside the Bloch ball
        }
    }
    EXPECT_GE(snapshots, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, Io, ::testing::ValuesIn(all_backends()), backend_name);

// An rk4 interval beyond a run's t_end is kept as given (events only at 0 and
// t_end); carried on to a later t_end it comes to whole steps, as in a run
// straight there, and /parameters says so (it kept the old value while the rows
// came every 3 steps).
TEST(IoFiles, AContinuedRunRecordsTheIntervalsItKeeps) {
    ScratchDir dir;
    const std::string cut = dir.file("cut.h5"), straight = dir.file("straight.h5");
    const std::string common = "run -q --backend cpu --size 8 --Jx 1 --dt 0.1 --record-every 0.25 --snapshot-every 0.25 ";
    ASSERT_EQ(run_xyzmf(common + "--t-end 0.2 -o " + cut).exit_code, 0);
    const CommandResult more = run_xyzmf("run --continue-from " + cut + " --t-end 1", true);
    ASSERT_EQ(more.exit_code, 0) << more.stderr_text;
    EXPECT_NE(more.stderr_text.find("the record interval 0.25 of " + cut + " comes to whole rk4 steps of every 0.3"),
              std::string::npos)
        << more.stderr_text;
    ASSERT_EQ(run_xyzmf(common + "--t-end 1 -o " + straight).exit_code, 0);
    h5::Id c = h5::open_file(cut, false), s = h5::open_file(straight, false);
    h5::Id pc = h5::open_group(c, "/parameters"), ps = h5::open_group(s, "/parameters");
    for (const char* name : {"record_every", "snapshot_every"}) {
        EXPECT_EQ(h5::attr_double(pc, name), 3 * 0.1) << name;
        EXPECT_EQ(h5::attr_double(pc, name), h5::attr_double(ps, name)) << name;
    }
    std::vector<hsize_t> dims;
    EXPECT_EQ(h5::read_array(c, "/timeseries/t", dims), (std::vector<double>{0, 0.2, 3 * 0.1, 6 * 0.1, 9 * 0.1, 1}));  // (times are step x dt)
}

// The journal's hash of a piece read block by block (how the root of a spread
// run, which never holds a whole state, checks a snapshot) is the hash of the
// piece read whole, for pieces with and without a last partial word.
TEST(IoFiles, JournalHashReadInBlocksEqualsTheWholePiece) {
    ScratchDir dir;
    const std::string path = dir.file("bytes.bin");
    std::vector<unsigned char> bytes(1003);
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<unsigned char>((i * 2654435761u) >> 13);
    { std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size())); }
    const std::vector<JournalPiece> pieces = {{0, 517, 0, {}}, {520, 483, 0, {}}, {40, 64, 0, {}}};
    std::uint64_t expect = 0;
    for (const JournalPiece& p : pieces) expect = hash_bytes(bytes.data() + p.offset, std::size_t(p.size), expect ^ p.offset);
    const int fd = ::open(path.c_str(), O_RDONLY);
    ASSERT_GE(fd, 0);
    std::vector<std::vector<unsigned char>> whole;
    std::uint64_t h_whole = 0;
    EXPECT_TRUE(hash_pieces(fd, pieces, h_whole, &whole));
    EXPECT_EQ(h_whole, expect);
    for (std::size_t block : {8, 16, 24, 512, 4096}) {
        std::uint64_t h = 0;
        EXPECT_TRUE(hash_pieces(fd, pieces, h, nullptr, block));
        EXPECT_EQ(h, expect) << "blocks of " << block << " bytes";
    }
    // A piece past the end of the file cannot be read: no hash.
    std::uint64_t h = 0;
    EXPECT_FALSE(hash_pieces(fd, {{1000, 16, 0, {}}}, h, nullptr, 8));
    ::close(fd);
}

TEST(IoFiles, ForeignAndCorruptFilesGiveOneLineErrors) {
    ScratchDir dir;
    const std::string text = dir.file("notes.h5"), foreign = dir.file("foreign.h5"), missing = dir.file("nope.h5");
    { std::ofstream(text) << "not hdf5 at all"; }
    {
        const hid_t f = H5Fcreate(foreign.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        H5Fclose(f);
    }
    struct Case { std::string args, expect; };
    const Case cases[] = {
        {"run --init " + text + " -o " + dir.file("o1.h5"), "not an HDF5 file"},
        {"run --init " + foreign + " -o " + dir.file("o2.h5"), "not an xyzmf file"},
        {"run --resume " + foreign, "not an xyzmf file"},
        {"run --resume " + missing, "no such file"},
    };
    for (const Case& c : cases) {
        const CommandResult r = run_xyzmf(c.args);
        EXPECT_NE(r.exit_code, 0) << c.args;
        EXPECT_NE(r.stderr_text.find(c.expect), std::string::npos) << c.args << " -> " << r.stderr_text;
        EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("o1.h5")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("o2.h5")));
}

TEST(IoFiles, InitFromAnEarlierRunStartsFromItsFinalState) {
    ScratchDir dir;
    const std::string first = dir.file("first.h5"), second = dir.file("second.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 8 --Jx 2 --Jz 1 --t-end 1 -o " + first).exit_code, 0);
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 8 --Jx 2 --Jz 1 --t-end 0 --init " + first + " -o " + second).exit_code, 0);
    EXPECT_EQ(read_stored_state(first).spins, read_stored_state(second).spins);
    const CommandResult r = run_xyzmf("run -q --backend cpu --size 9 --init " + first + " -o " + dir.file("x.h5"));
    EXPECT_NE(r.stderr_text.find("--init"), std::string::npos) << r.stderr_text;
}

TEST(IoFiles, InitFromAChosenSnapshotTakesItsStateAndLattice) {
    ScratchDir dir;
    const std::string first = dir.file("first.h5"), second = dir.file("second.h5");
    // 12 x 6 and no --size below: the second run must take the file's lattice, not the default 64 x 64.
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 12x6 --Jx 2 --Jz 1 --t-end 1 --snapshot-every 0.25 -o " + first).exit_code, 0);
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --Jx 2 --Jz 1 --t-end 0 --init " + first + ":/snapshots/2 -o " + second).exit_code, 0);
    h5::Id f = h5::open_file(first, false);
    const StoredState snap = read_state_group(f, first, snapshot_group(2));
    EXPECT_DOUBLE_EQ(snap.t, 0.5);
    const StoredState got = read_stored_state(second);
    EXPECT_EQ(got.lattice.L[0], 12);
    EXPECT_EQ(got.lattice.L[1], 6);
    EXPECT_EQ(got.spins, snap.spins);  // bit for bit, and not the final state
    EXPECT_NE(got.spins, read_stored_state(first).spins);

    struct Case { std::string init_and_size, expect; };
    const Case cases[] = {
        {first + ":/snapshots/two", ":/snapshots/N"},
        {first + ":/snapshots/99", "snapshots"},
        {first + ":/snapshots/2 --size 8", "leave out --size"},
    };
    for (const Case& c : cases) {
        const CommandResult r = run_xyzmf("run -q --backend cpu --t-end 0 -o " + dir.file("x.h5") + " --init " + c.init_and_size);
        EXPECT_NE(r.exit_code, 0) << c.init_and_size;
        EXPECT_NE(r.stderr_text.find(c.expect), std::string::npos) << c.init_and_size << " -> " << r.stderr_text;
        EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("x.h5")));
}

TEST(IoFiles, ConfigFileSetsOptionsAndTheCommandLineWins) {
    ScratchDir dir;
    const std::string cfg = dir.file("run.toml"), out = dir.file("cfg.h5");
    {
        std::ofstream f(cfg);
        f << "# a run described in a file\nJx = 1.5\nJy = -0.5\nsize = \"12x6\"\nt-end = 0.5\nprecision = \"float\"\n";
    }
    const CommandResult r = run_xyzmf("run -q --backend cpu --config " + cfg + " --Jy -0.25 -o " + out);
    ASSERT_EQ(r.exit_code, 0) << r.stderr_text;
    const RunConfig back = read_run_config(out);
    EXPECT_EQ(back.couplings.Jx, 1.5);
    EXPECT_EQ(back.couplings.Jy, -0.25);  // command line wins
    EXPECT_EQ(back.lattice.L[0], 12);
    EXPECT_EQ(back.lattice.L[1], 6);
    EXPECT_EQ(back.numerics.t_end, 0.5);
    EXPECT_EQ(back.precision, Precision::float32);
    // The file records the command spelt out, so it reruns the same run after the
    // config file has changed (new-user audit: it recorded "--config run.toml").
    std::string line;
    {
        h5::Id f = h5::open_file(out, true);
        line = h5::attr_string(f, "command_line");
    }
    EXPECT_NE(line.find("--Jx 1.5"), std::string::npos) << line;
    EXPECT_NE(line.find("  # options from --config " + cfg), std::string::npos) << line;
    EXPECT_EQ(line.find("--config"), line.find("# options from --config") + 15) << "no live --config: " << line;
    { std::ofstream(cfg) << "Jx = 9\nsize = \"4\"\n"; }
    std::string again = line.substr(0, line.find("  # options from"));
    again.replace(again.find(" -o " + out), 4 + out.size(), " -o " + out + "2");
    ASSERT_EQ(std::system((again + " 2>/dev/null").c_str()), 0) << again;
    EXPECT_EQ(read_stored_state(out + "2").spins, read_stored_state(out).spins);
    const CommandResult bad = run_xyzmf("run --config " + dir.file("missing.toml"));
    EXPECT_NE(bad.stderr_text.find("--config"), std::string::npos) << bad.stderr_text;
    // A bad value from the file says where it was set; the same value typed does not.
    { std::ofstream(dir.file("bad.toml")) << "gamma = -1\nJx = \"two\"\n"; }
    const CommandResult two = run_xyzmf("run --config " + dir.file("bad.toml") + " --gamma 1 -o " + out + "x");
    EXPECT_NE(two.stderr_text.find("--Jx: expected a number (got 'two') (see --help) (set in --config " + dir.file("bad.toml") + ")"), std::string::npos)
        << two.stderr_text;
    { std::ofstream(dir.file("bad.toml")) << "gamma = -1\n"; }
    const CommandResult g = run_xyzmf("run --config " + dir.file("bad.toml") + " -o " + out + "x");
    EXPECT_NE(g.stderr_text.find("--gamma: must be 0 to 1000000 gamma (got -1) (set in --config "), std::string::npos)
        << g.stderr_text;
    const CommandResult typed = run_xyzmf("run --gamma -1 -o " + out + "x");
    EXPECT_EQ(typed.stderr_text.find("set in --config"), std::string::npos) << typed.stderr_text;
    // true and false belong to switches: a value option given one is refused (Jx = false was
    // dropped, Jx = true took the next word of the command line), and a switch takes no other.
    for (const auto& [line, said] : std::vector<std::pair<std::string, std::string>>{
             {"Jx = false", "key 'Jx': --Jx takes a value, not false"},
             {"Jx = true", "key 'Jx': --Jx takes a value, not true"},
             {"quiet = \"yes\"", "key 'quiet' is a switch: write quiet = true or false (got 'yes')"},
             // A key given twice is not an array (the TOML reader joins the two), and a
             // mistyped key gets the nearest option.
             {"Jx = 1\nJx = 2", "key 'Jx' is given on lines 1 and 2; give it once"},
             {"t_ned = 1", "unknown key 't_ned': `xyzmf run` has no option --t_ned (did you mean t-end?)"}}) {
        { std::ofstream(dir.file("bad.toml")) << line << "\n"; }
        const CommandResult r = run_xyzmf("run --config " + dir.file("bad.toml") + " -o " + out + "x --t-end 0.1");
        EXPECT_EQ(r.exit_code, 2) << line;
        EXPECT_NE(r.stderr_text.find("--config " + dir.file("bad.toml") + ": " + said), std::string::npos) << r.stderr_text;
    }
}

TEST(IoFiles, ExportRefusesBadInputInOneLineAndKeepsFiles) {
    ScratchDir dir;
    const std::string run = dir.file("a.h5"), text = dir.file("notes.h5");
    { std::ofstream(text) << "not hdf5 at all"; }
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 8 --Jx 1 --Jy -1 --Jz 0 --t-end 0.5 -o " + run).exit_code, 0);
    struct Case { std::string args, expect; int code; };
    const Case cases[] = {
        {"export " + dir.file("missing.h5"), "no such file", 3},
        {"export " + text, "not an HDF5 file", 3},
        {"export " + run + " --xdmf-out " + dir.file("a.vtk"), "must end in .xdmf", 2},
        {"run -q --resume " + run + " --xdmf", "--xdmf cannot be combined with --resume", 2},
    };
    for (const Case& c : cases) {
        const CommandResult r = run_xyzmf(c.args);
        EXPECT_EQ(r.exit_code, c.code) << c.args << " -> " << r.stderr_text;
        EXPECT_NE(r.stderr_text.find(c.expect), std::string::npos) << c.args << " -> " << r.stderr_text;
        EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    }
    // A sidecar that exists is kept (no --overwrite), and so is its fields file.
    ASSERT_EQ(run_xyzmf("export -q " + run).exit_code, 0);
    const FileIdentity sidecar = file_identity(dir.file("a.xdmf")), fields = file_identity(dir.file("a.fields.h5"));
    ASSERT_FALSE(sidecar.bytes.empty() || fields.bytes.empty());
    const CommandResult again = run_xyzmf("export " + run);
    EXPECT_EQ(again.exit_code, 3);
    EXPECT_TRUE(file_identity(dir.file("a.xdmf")) == sidecar) << "a.xdmf was replaced";
    EXPECT_TRUE(file_identity(dir.file("a.fields.h5")) == fields) << "a.fields.h5 was replaced";
    // psi is the sXY phase field of physics: on A sites atan2(y, x)
    h5::Id f = h5::open_file(dir.file("a.fields.h5"), false);
    std::vector<hsize_t> dims;
    const std::vector<double> psi = h5::read_array(f, "/final/psi", dims);
    const StoredState st = read_stored_state(run);
    EXPECT_EQ(dims, (std::vector<hsize_t>{8, 8}));
    const index_t N = 64;
    EXPECT_DOUBLE_EQ(psi[0], std::atan2(st.spins[N + 0], st.spins[0]));             // site (0, 0): A
    EXPECT_DOUBLE_EQ(psi[1], std::atan2(1.0 * st.spins[1], 1.0 * st.spins[N + 1]));  // (1, 0): B, atan2(Jx x, -Jy y)
}

TEST(IoUnits, TheTableNamesLatticeAxesSlowestFirst) {
    EXPECT_EQ(dataset_meaning("/final/spins", 4).axes, "z,y,x,component(sx,sy,sz)");
    EXPECT_EQ(dataset_meaning("/snapshots/000003/spins", 2).axes, "x,component(sx,sy,sz)");
    EXPECT_EQ(dataset_meaning("/final/structure_factor/Sxx", 2).axes, "ky,kx");
    EXPECT_EQ(dataset_meaning("/final/structure_factor/Szz_ky0", 2).axes, "kz,kx");
    EXPECT_EQ(dataset_meaning("/timeseries/t", 1).unit, "1/gamma");
    EXPECT_EQ(dataset_meaning("/snapshots/000003/t", 0).unit, "1/gamma");
    EXPECT_EQ(dataset_meaning("/analysis/coarsening/residual", 1).unit, "gamma");
    EXPECT_EQ(dataset_meaning("/sweep/t_final", 3).unit, "1/gamma");
    EXPECT_FALSE(dataset_meaning("/somewhere/else", 1).known);
}

// Every dataset of every kind of file carries "unit" (and, unless scalar,
// "axes" with one name per dimension); parameters carry theirs in the
// attribute parameter_units.
TEST(IoUnits, EveryDatasetOfEveryFileSaysItsUnitAndAxes) {
    ScratchDir dir;
    const std::string X = "-q --overwrite -o " + dir.file("f.h5") + " ";
    const std::string cmds[] = {
        "run --backend cpu --dim 1 --size 16 --t-end 1 --analyze " + X,
        "run --backend cpu --size 12x8 --Jx 1 --Jy -1 --Jz 0 --t-end 1 --analyze " + X,
        "run --backend cpu --size 8x8x6 --Jx 1 --Jy -1 --Jz 0 --t-end 1 --analyze " + X,
        "sweep --backend cpu --x Jx:-1:1:2 --y Jy:-1:1:2 --size 8 --t-end 1 " + X,
        "stability --x Jx:-2:2:3 --y Jy:-1:1:2 --lifshitz " + X.substr(3),
        "gaussian --Jx 0.5 " + X.substr(3),
        "quantum --sites 4 --trajectories 2 --t-end 1 --burn-in 0.5 " + X,
        "quantum --sites 4 --method exact --gap --series " + X,
        "dtwa --backend cpu --size 6x4 --Jx 1 --trajectories 3 --batch 2 --t-end 0.2 " + X,
        "dtwa --backend cpu --dim 3 --size 3 --trajectories 2 --t-end 0.1 " + X,
    };
    for (const std::string& cmd : cmds) {
        const CommandResult r = run_xyzmf(cmd);
        ASSERT_EQ(r.exit_code, 0) << cmd << " -> " << r.stderr_text;
        h5::Id f = h5::open_file(dir.file("f.h5"), false);
        struct Seen { std::vector<std::string> bad; int datasets = 0; bool units = false; } seen;
        H5Ovisit(f, H5_INDEX_NAME, H5_ITER_NATIVE,
                 [](hid_t root, const char* name, const H5O_info_t* info, void* data) -> herr_t {
                     auto& s = *static_cast<Seen*>(data);
                     const std::string path = std::string("/") + name;
                     if (info->type == H5O_TYPE_GROUP) {
                         h5::Id g = h5::open_group(root, path);
                         if (h5::has_attr(g, "parameter_units"))
                             s.units = h5::attr_string(g, "parameter_units").find("\"Jx\": \"gamma\"") != std::string::npos;
                     }
                     if (info->type != H5O_TYPE_DATASET) return 0;
                     ++s.datasets;
                     h5::Id d = h5::open_dataset(root, path);
                     h5::Id space(H5Dget_space(d), H5Sclose, "space");
                     const int rank = H5Sget_simple_extent_ndims(space);
                     if (!h5::has_attr(d, "unit")) s.bad.push_back(path + " has no unit");
                     const std::string axes = h5::has_attr(d, "axes") ? h5::attr_string(d, "axes") : "";
                     // "component(sx,sy,sz)" is one name: count the commas outside parentheses
                     int names = axes.empty() ? 0 : 1, depth = 0;
                     for (char c : axes) depth += c == '(' ? 1 : c == ')' ? -1 : 0, names += c == ',' && depth == 0;
                     if (names != rank) s.bad.push_back(path + " has rank " + std::to_string(rank) + " but axes '" + axes + "'");
                     return 0;
                 },
                 &seen);
        EXPECT_TRUE(seen.bad.empty()) << cmd << ": " << (seen.bad.empty() ? "" : seen.bad.front());
        EXPECT_GT(seen.datasets, 3) << cmd;
        EXPECT_TRUE(seen.units) << cmd << ": no parameter_units with Jx in gamma";
        // ... and what computed it, as --threads says (run: /parameters backend; sweep,
        // quantum, dtwa: the root's; stability and gaussian maps are closed forms).
        if (cmd.rfind("stability", 0) != 0 && cmd.rfind("gaussian", 0) != 0) {
            const bool run = cmd.rfind("run", 0) == 0;
            const std::string b = run                         ? h5::attr_string(h5::open_group(f, "/parameters"), "backend")
                                  : h5::has_attr(f, "backend") ? h5::attr_string(f, "backend")
                                                               : "";
            EXPECT_EQ(b.rfind("cpu (OpenMP, ", 0), 0u) << cmd << ": backend '" << b << "'";
            // and how: lattices of 16 or fewer sites a side step in four sweeps on the
            // CPU, though the stepper asked for is the default, fused
            if (run) {
                const std::string method = h5::attr_string(h5::open_group(f, "/parameters"), "method");
                if (cmd.find("--size 16 ") != std::string::npos) EXPECT_EQ(method, "rk4 (four-sweep)") << cmd;
                else EXPECT_EQ(method.rfind("rk4 (", 0), 0u) << cmd << ": " << method;
            }
        }
    }
}

}  // namespace
}  // namespace xyzmf::test

namespace xyzmf::test {
namespace {

// Compressed spins are deflated by xyzmf on every thread (chunk_filters.hpp):
// the chunks must be byte for byte what HDF5's own shuffle and deflate filters
// store for the same array, so any HDF5 reader (h5py, ParaView) reads them and
// a file does not depend on who compressed it. Shapes: 1D, 2D with chunks that
// end past the array (zero-padded edge chunks), 3D cut along the faster axes.
void expect_same_chunks(const std::string& theirs_path, const std::string& ours_path, const std::string& name,
                        std::size_t expected);

template <class Real>
void expect_filtered_chunks_are_hdf5s(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& chunk, int level) {
    ScratchDir dir;
    std::size_t n = 1;
    for (hsize_t d : dims) n *= std::size_t(d);
    std::vector<Real> a(n);
    for (std::size_t i = 0; i < n; ++i) a[i] = Real(std::sin(0.37 * double(i)) * std::exp(-1e-4 * double(i)));
    const hid_t mem = sizeof(Real) == 8 ? H5T_NATIVE_DOUBLE : H5T_NATIVE_FLOAT;
    const hid_t file_type = sizeof(Real) == 8 ? H5T_IEEE_F64LE : H5T_IEEE_F32LE;
    auto make = [&](const std::string& path) {
        h5::Id f(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, path);
        h5::Id space(H5Screate_simple(int(dims.size()), dims.data(), nullptr), H5Sclose, "space");
        h5::Id dcpl(H5Pcreate(H5P_DATASET_CREATE), H5Pclose, "dcpl");
        H5Pset_chunk(dcpl, int(chunk.size()), chunk.data());
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, unsigned(level));
        return std::make_pair(std::move(f), h5::Id(H5Dcreate2(f, "a", file_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT),
                                                   H5Dclose, "dataset"));
    };
    {
        auto [f, d] = make(dir.file("hdf5.h5"));
        ASSERT_GE(H5Dwrite(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.data()), 0);
    }
    SpinChunking how;
    how.dims.assign(dims.begin(), dims.end());
    how.chunk.assign(chunk.begin(), chunk.end());
    how.level = level;
    how.value_bytes = int(sizeof(Real));
    // Two halves of the chunk rows, as two processes would filter them.
    const std::uint64_t c0 = chunk[0], half = (dims[0] / c0 / 2) * c0;
    std::vector<FilteredChunks> parts{filter_chunks(a.data(), 0, how, 0, half),
                                      filter_chunks(a.data() + half * (n / dims[0]), half, how, half, dims[0])};
    {
        auto [f, d] = make(dir.file("ours.h5"));
        for (const FilteredChunks& p : parts)
            for (std::size_t i = 0; i < p.count(); ++i) {
                std::vector<hsize_t> at(p.origin.begin() + std::ptrdiff_t(dims.size() * i),
                                        p.origin.begin() + std::ptrdiff_t(dims.size() * (i + 1)));
                h5::write_raw_chunk(d, at.data(), p.bytes.data() + p.at[i], std::size_t(p.size[i]), "a");
            }
    }
    std::size_t expected = 1;
    for (std::size_t k = 0; k < dims.size(); ++k) expected *= std::size_t((dims[k] + chunk[k] - 1) / chunk[k]);
    EXPECT_EQ(parts[0].count() + parts[1].count(), expected);
    expect_same_chunks(dir.file("hdf5.h5"), dir.file("ours.h5"), "a", expected);
    h5::Id ours = h5::open_file(dir.file("ours.h5"), false);
    h5::Id dours = h5::open_dataset(ours, "a");
    std::vector<Real> back(n);
    ASSERT_GE(H5Dread(dours, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, back.data()), 0);
    EXPECT_EQ(back, a);
}

// Dataset `name` of two files: the same chunks, `expected` of them, byte for byte
// as stored (after the filters), with the same filter masks.
void expect_same_chunks(const std::string& theirs_path, const std::string& ours_path, const std::string& name,
                        std::size_t expected) {
    h5::Id theirs = h5::open_file(theirs_path, false), ours = h5::open_file(ours_path, false);
    h5::Id dt = h5::open_dataset(theirs, name), dours = h5::open_dataset(ours, name);
    hsize_t count = 0, count_ours = 0;
    h5::Id space(H5Dget_space(dt), H5Sclose, "space");
    const std::size_t rank = std::size_t(H5Sget_simple_extent_ndims(space));
    H5Dget_num_chunks(dt, space, &count);
    H5Dget_num_chunks(dours, space, &count_ours);
    EXPECT_EQ(count, expected);
    EXPECT_EQ(count_ours, expected);
    std::size_t differ = 0;
    for (hsize_t i = 0; i < count; ++i) {
        std::vector<hsize_t> at(rank);
        haddr_t addr;
        hsize_t size = 0, size_ours = 0;
        unsigned mask = 0, mask_ours = 0;
        H5Dget_chunk_info(dt, space, i, at.data(), &mask, &addr, &size);
        ASSERT_GE(H5Dget_chunk_storage_size(dours, at.data(), &size_ours), 0);
        std::vector<unsigned char> b1(size), b2(size_ours);
        std::uint32_t m1 = 0, m2 = 0;
        H5Dread_chunk(dt, H5P_DEFAULT, at.data(), &m1, b1.data());
        H5Dread_chunk(dours, H5P_DEFAULT, at.data(), &m2, b2.data());
        differ += b1 != b2 || m1 != m2;
    }
    EXPECT_EQ(differ, 0u) << name << ": " << rank << " axes";
}

TEST(IoFiles, SpinsDeflatedOnEveryThreadAreHdf5sOwnChunks) {
    expect_filtered_chunks_are_hdf5s<double>({1000, 3}, {300, 3}, 1);
    expect_filtered_chunks_are_hdf5s<float>({45, 37, 3}, {7, 37, 3}, 4);
    expect_filtered_chunks_are_hdf5s<double>({23, 11, 19, 3}, {2, 5, 19, 3}, 9);
}

// The analysis's arrays (structure factors, written by write_deflated_doubles on
// every thread) are the chunks h5::write_array's HDF5 filters store, in 1D, 2D
// and 3D, larger than one batch of 64 MiB (3 rows of 2^22 values, 32 MiB each:
// two batches) or smaller than one chunk; an empty one (no vortices: HDF5 cannot
// chunk it) is written as write_array writes it.
TEST(IoFiles, AnalysisArraysDeflatedOnEveryThreadAreHdf5sOwnChunks) {
    ScratchDir dir;
    {
        h5::Id f(H5Fcreate(dir.file("empty.h5").c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "empty");
        write_deflated_doubles(f, "a", {0, 3}, nullptr, 1);
        EXPECT_EQ(h5::dataset_dims(f, "a"), (std::vector<hsize_t>{0, 3}));
    }
    const std::vector<std::vector<hsize_t>> shapes{{1000}, {3, 1 << 22}, {257, 129}, {13, 7, 5}, {2, 3}};
    for (const auto& dims : shapes) {
        std::size_t n = 1;
        for (hsize_t d : dims) n *= std::size_t(d);
        std::vector<double> a(n);
        for (std::size_t i = 0; i < n; ++i) a[i] = std::exp(-1e-6 * double(i)) * (1 + std::cos(0.01 * double(i * i % 997)));
        for (const char* file : {"hdf5.h5", "ours.h5"}) {
            h5::Id f(H5Fcreate(dir.file(file).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, file);
            if (std::string(file) == "hdf5.h5")
                h5::write_array(f, "a", dims, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, a.data(), 1);
            else
                write_deflated_doubles(f, "a", dims, a.data(), 1);
        }
        h5::Id f = h5::open_file(dir.file("hdf5.h5"), false);
        h5::Id d = h5::open_dataset(f, "a");
        std::size_t chunks = 1;
        const std::vector<hsize_t> chunk = h5::chunk_shape(d, "a");
        for (std::size_t k = 0; k < dims.size(); ++k) chunks *= std::size_t((dims[k] + chunk[k] - 1) / chunk[k]);
        expect_same_chunks(dir.file("hdf5.h5"), dir.file("ours.h5"), "a", chunks);
    }
}

}  // namespace
}  // namespace xyzmf::test
