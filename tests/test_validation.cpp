// Every kind of bad input to `xyzmf run` is refused with ONE line that names
// the option, a non-zero exit, and no output file left behind.
#include <cmath>
#include <filesystem>

#include "helpers.hpp"
#include "hdf5.hpp"
#include "xyzmf/error.hpp"
#include "schema.hpp"

namespace xyzmf::test {
namespace {

struct BadInput {
    const char* args;
    const char* option;  // must appear in the message
};

TEST(Validation, EachBadValueIsRefusedInOneLineNamingTheOption) {
    const BadInput cases[] = {
        {"--Jx nan", "--Jx"},
        {"--Jy inf", "--Jy"},
        {"--Jz -inf", "--Jz"},
        {"--gamma -1", "--gamma"},
        {"--gamma-phi -0.5", "--gamma-phi"},
        {"--gamma nan", "--gamma"},
        {"--size 0", "--size"},
        {"--size -4", "--size"},
        {"--size 16x0", "--size"},
        {"--size 16xq", "--size"},
        {"--size 8x8 --dim 3", "--size"},
        {"--size 8x8x8x8", "--size"},
        {"--dim 4", "--dim"},
        {"--dim 0", "--dim"},
        {"--size 1000000x1000000x1000000", "--size"},  // does not fit in memory
        {"--dt 0", "--dt"},
        {"--dt -0.1", "--dt"},
        {"--t-end -5", "--t-end"},
        {"--t-end nan", "--t-end"},
        {"--rtol 0 --integrator dopri5", "--rtol"},
        {"--steady-tol -1", "--steady-tol"},
        {"--record-every 0", "--record-every"},
        {"--snapshot-every -1", "--snapshot-every"},
        {"--noise 2 --init pm-noise", "--noise"},
        {"--init bogus", "--init"},
        {"--init uniform:1,1,1", "--init"},
        {"--init uniform:0.1,0.2", "--init"},
        {"--precision half", "--precision"},
        {"--integrator euler", "--integrator"},
        {"--backend opencl", "--backend: must be one of auto | cpu"},
        {"--Jx abc", "--Jx: expected a number (got 'abc')"},
        {"--seed 1.5", "--seed: must be a whole number 0 to 9223372036854775807 (got '1.5')"},
        {"--seed -1", "--seed: must be a whole number 0 to 9223372036854775807 (got '-1')"},
        {"--seed 1180591620717411303424", "(got '1180591620717411303424')"},  // 2^70 (it was quoted as -1)
        {"--Jx 1 --Jx 2", "--Jx: given 2 times; give it once"},
        {"--threads 0", "--threads: must be 1 to 4096 (got '0')"},
        {"--no-such-option 1", "no-such-option"},
        {"--stepper four-sweep --steps-per-pass 2", "--steps-per-pass 2: only the fused rk4 stepper"},
        {"--integrator dopri5 --steps-per-pass 1", "--steps-per-pass 1: only the fused rk4 stepper"},
    };
    ScratchDir dir;
    const std::string out = dir.file("never.h5");
    for (const BadInput& c : cases) {
        const CommandResult r = run_xyzmf(std::string("run ") + c.args + " -o " + out);
        EXPECT_NE(r.exit_code, 0) << c.args;
        EXPECT_NE(r.stderr_text.find(c.option), std::string::npos) << c.args << " -> " << r.stderr_text;
        EXPECT_EQ(r.stderr_text.rfind("xyzmf: error: ", 0), 0u) << c.args << " -> " << r.stderr_text;
        EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << c.args << " -> " << r.stderr_text;
        EXPECT_FALSE(std::filesystem::exists(out)) << c.args << " left a file behind";
    }
}

TEST(Validation, MemoryErrorSaysHowMuchIsNeededAndAvailable) {
    ScratchDir dir;
    const CommandResult r = run_xyzmf("run --size 1000000x1000000 -o " + dir.file("never.h5"));
    EXPECT_EQ(r.exit_code, exit_code::usage);
    EXPECT_FALSE(std::filesystem::exists(dir.file("never.h5")));
    EXPECT_NE(r.stderr_text.find("needs"), std::string::npos) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("available"), std::string::npos) << r.stderr_text;
    EXPECT_NE(r.stderr_text.find("TiB"), std::string::npos) << r.stderr_text;
}

TEST(Validation, ExistingOutputIsNotReplacedWithoutOverwrite) {
    ScratchDir dir;
    const std::string out = dir.file("done.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 4 --t-end 0.1 -o " + out).exit_code, 0);
    const FileIdentity before = file_identity(out);
    const CommandResult r = run_xyzmf("run -q --backend cpu --size 4 --t-end 0.1 -o " + out);
    EXPECT_EQ(r.exit_code, exit_code::io);
    EXPECT_NE(r.stderr_text.find("--overwrite"), std::string::npos) << r.stderr_text;
    EXPECT_TRUE(file_identity(out) == before) << out << " was replaced";
    EXPECT_EQ(run_xyzmf("run -q --backend cpu --size 4 --t-end 0.1 --overwrite -o " + out).exit_code, 0);
}

// rk4 records on whole steps: an interval that is not a whole number of --dt
// steps is moved to the nearest one, and the run says so (found by a new-user
// audit: --record-every 0.1 with --dt 0.3 recorded every 0.3 silently).
TEST(Validation, IntervalsMovedToWholeStepsAreSaid) {
    ScratchDir dir;
    const CommandResult moved = run_xyzmf("run --backend cpu --size 4 --t-end 1 --dt 0.3 --record-every 0.1 --snapshot-every 0.6 -o " +
                                              dir.file("a.h5"), true);
    ASSERT_EQ(moved.exit_code, 0) << moved.stderr_text;
    EXPECT_NE(moved.stderr_text.find("note: --record-every 0.1 is not a whole number of --dt 0.3 steps: every 1 step (0.3 1/gamma)"),
              std::string::npos) << moved.stderr_text;
    EXPECT_EQ(moved.stderr_text.find("--snapshot-every"), std::string::npos) << "0.6 is two steps: " << moved.stderr_text;
    const CommandResult whole = run_xyzmf("run --backend cpu --size 4 --t-end 2.5 --dt 0.25 -o " + dir.file("b.h5"), true);
    ASSERT_EQ(whole.exit_code, 0) << whole.stderr_text;
    EXPECT_EQ(whole.stderr_text.find("note:"), std::string::npos) << whole.stderr_text;
    const CommandResult adaptive = run_xyzmf("run --backend cpu --size 4 --t-end 1 --dt 0.3 --record-every 0.1 --integrator dopri5 -o " +
                                                 dir.file("c.h5"), true);
    ASSERT_EQ(adaptive.exit_code, 0) << adaptive.stderr_text;
    EXPECT_EQ(adaptive.stderr_text.find("note:"), std::string::npos) << "dopri5 lands on every record: " << adaptive.stderr_text;
    // The file records the intervals in use: rows every 0.3, snapshots every 0.6 (rk4);
    // t_end/10 = 0.2037 of 2.037 is 20 steps of 0.01 (an audit found the asked-for ones).
    {
        h5::Id f = h5::open_file(dir.file("a.h5"), false);
        h5::Id p = h5::open_group(f, "/parameters");
        EXPECT_NEAR(h5::attr_double(p, "record_every"), 0.3, 1e-15);
        EXPECT_NEAR(h5::attr_double(p, "snapshot_every"), 0.6, 1e-15);
        h5::Id c = h5::open_group(h5::open_file(dir.file("c.h5"), false), "/parameters");
        EXPECT_EQ(h5::attr_double(c, "record_every"), 0.1);
    }
    ASSERT_EQ(run_xyzmf("run --backend cpu --size 4 --t-end 2.037 --dt 0.01 -o " + dir.file("d.h5")).exit_code, 0);
    h5::Id d = h5::open_group(h5::open_file(dir.file("d.h5"), false), "/parameters");
    EXPECT_NEAR(h5::attr_double(d, "snapshot_every"), 0.2, 1e-15);
    // An interval already whole is stored as given (3 x 0.1 is 0.30000000000000004).
    ASSERT_EQ(run_xyzmf("run --backend cpu --size 4 --t-end 1 --dt 0.1 --record-every 0.3 -o " + dir.file("e.h5")).exit_code, 0);
    h5::Id e = h5::open_group(h5::open_file(dir.file("e.h5"), false), "/parameters");
    EXPECT_EQ(h5::attr_double(e, "record_every"), 0.3);
}

// Options that would do nothing, or something other than meant, are refused or
// said (new-user audit): a bare --size N for a quantum cluster (N x N, 2^(N^2)
// amplitudes), trajectory options with the exact method, --halo in one process.
TEST(Validation, OptionsThatWouldDoNothingAreRefusedOrSaid) {
    ScratchDir dir;
    struct Case { std::string args, expect; };
    const Case refused[] = {
        {"quantum --size 4", "--size 4: give the cluster's sides, e.g. 4x4 (a ring of 4 spins is --sites 4)"},
        {"quantum --method exact --sites 4 --trajectories 50", "--trajectories: only for --method trajectories"},
        {"quantum --method exact --sites 4 --burn-in 3", "--burn-in: only for --method trajectories"},
        {"quantum --method exact --sites 4 --batch 2", "--batch: only for --method trajectories"},
        {"stability --x Jx:-2:2:5 --y Jy:-2:2:5 --Jx 5", "--Jx: Jx is the --x axis of this map; leave --Jx out"},
        {"run --size 4 --noise 0.3", "--noise: the amplitude of a pm-noise start; --init random takes none"},
        {"run --size 4 --rtol 1e-3", "--rtol: a tolerance of --integrator dopri5"},
        {"run --size 4 --integrator dopri5 --stepper fused", "--stepper fused: how rk4 steps"},
        {"gaussian --x Jx:-0.2:0.2:3 --y Jz:-1:1:3 --Jz 1", "--Jz: Jz is the --y axis of this map; leave --Jz out"},
    };
    for (const Case& c : refused) {
        const CommandResult r = run_xyzmf(c.args + " -o " + dir.file("q.h5"));
        EXPECT_EQ(r.exit_code, exit_code::usage) << c.args << " -> " << r.stderr_text;
        EXPECT_NE(r.stderr_text.find(c.expect), std::string::npos) << c.args << " -> " << r.stderr_text;
        EXPECT_FALSE(std::filesystem::exists(dir.file("q.h5")));
    }
    const CommandResult halo = run_xyzmf("run --backend cpu --size 4 --t-end 0.1 --halo overlap -o " + dir.file("h.h5"), true);
    EXPECT_EQ(halo.exit_code, 0) << halo.stderr_text;
    EXPECT_NE(halo.stderr_text.find("note: --halo overlap has no effect here"), std::string::npos) << halo.stderr_text;
}

TEST(Validation, ResumeRefusesNewPhysicsAndLeavesFinishedRunsAlone) {
    ScratchDir dir;
    const std::string out = dir.file("r.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 4 --t-end 0.1 -o " + out).exit_code, 0);
    const CommandResult a = run_xyzmf("run --resume " + out + " --Jx 3");
    EXPECT_NE(a.exit_code, 0);
    EXPECT_NE(a.stderr_text.find("--Jx"), std::string::npos) << a.stderr_text;
    // A finished run resumed again (a re-queued job): nothing to do, exit 0, the file untouched.
    const FileIdentity before = file_identity(out);
    const CommandResult b = run_xyzmf("run --resume " + out, true);
    EXPECT_EQ(b.exit_code, 0) << b.stderr_text;
    EXPECT_NE(b.stderr_text.find("already finished (finished: reached t_end): nothing to resume (carry it further with "
                                 "--continue-from " + out + " --t-end T)"),
              std::string::npos)
        << b.stderr_text;
    EXPECT_TRUE(file_identity(out) == before);
}

// Words and files the program cannot use are named in one line with their exit code,
// and no advice points to a command that cannot help (found by a new-user audit).
TEST(Validation, UnknownCommandsForeignFilesAndRepeatedShardsAreNamed) {
    ScratchDir dir;
    const std::string run = dir.file("r.h5"), foreign = dir.file("foreign.h5"), missing = dir.file("missing.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 4 --t-end 0.1 -o " + run).exit_code, 0);
    { h5::Id f = h5::create_file(foreign); }  // an HDF5 file with nothing of xyzmf's
    const std::string sweep = dir.file("s.h5");
    ASSERT_EQ(run_xyzmf("sweep -q --backend cpu --x Jx:0:1:2 --y Jy:0:1:2 --size 4 --t-end 1 -o " + sweep).exit_code, 0);
    struct Case { std::string args, expect, absent; int code; };
    const Case cases[] = {
        {"rn --size 4", "'rn' is not a command (did you mean run?); the commands: run, analyze", "", 2},
        {"bogus", "'bogus' is not a command; the commands:", "", 2},
        {"--threads 2 run --size 4", "--threads: options follow the command's name (xyzmf run --threads ...)", "did you", 2},
        {"run -o " + dir.file("n.h5") + " --dt", "--dt: needs a value (a number)", "required", 2},
        {"run --resume " + missing, missing + ": cannot be resumed: no such file", "repair", 3},
        {"run --resume " + foreign, foreign + ": cannot be resumed: not an xyzmf file", "repair", 3},
        {"run --resume " + sweep, sweep + ": cannot be resumed: an xyzmf sweep file, not a run file", "repair", 3},
        {"repair " + foreign + " -o " + dir.file("rep.h5"), "not an xyzmf file (no schema", "salvaged", 3},
        {"merge -o " + dir.file("m.h5") + " " + sweep + " " + sweep, sweep + " is given twice", "", 2},
        {"run --config " + dir.file("missing.toml"), "--config " + dir.file("missing.toml") + ": no such file", "", 3},
    };
    for (const Case& c : cases) {
        const CommandResult r = run_xyzmf(c.args);
        EXPECT_EQ(r.exit_code, c.code) << c.args << " -> " << r.stderr_text;
        EXPECT_NE(r.stderr_text.find(c.expect), std::string::npos) << c.args << " -> " << r.stderr_text;
        if (!c.absent.empty()) EXPECT_EQ(r.stderr_text.find(c.absent), std::string::npos) << c.args << " -> " << r.stderr_text;
        EXPECT_EQ(std::count(r.stderr_text.begin(), r.stderr_text.end(), '\n'), 1) << r.stderr_text;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("rep.h5")));
    EXPECT_FALSE(std::filesystem::exists(dir.file("m.h5")));
}

TEST(Validation, CudaRequestWithoutADeviceIsAClearError) {
    if (cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present";
    ScratchDir dir;
    const CommandResult r = run_xyzmf("run --backend cuda --size 4 -o " + dir.file("never.h5"));
    EXPECT_EQ(r.exit_code, exit_code::usage);
    EXPECT_FALSE(std::filesystem::exists(dir.file("never.h5")));
    EXPECT_NE(r.stderr_text.find("--backend cuda"), std::string::npos) << r.stderr_text;
}

}  // namespace
}  // namespace xyzmf::test

namespace xyzmf::test {
namespace {

// The parameter table drives both writing and reading /parameters: every
// parameter survives the round trip, and a file whose value breaks the
// parameter's rule (or has the wrong kind) is refused naming FILE: /parameters/key.
TEST(ParameterTable, EveryRunParameterRoundTripsAndBadStoredValuesAreRefused) {
    ScratchDir dir;
    RunConfig c = config(lattice(2, 6), 1.5, -0.5, 0.25, 1, 0.125);
    c.numerics.t_end = 3;
    c.numerics.snapshot_every = 0.5;
    c.seed = 77;
    c.noise = 0.3;
    const std::string good = dir.file("good.h5");
    {
        h5::Id f = h5::create_file(good);
        write_provenance(f, "test", "run");
        write_run_parameters(f, c, "cpu");
    }
    const RunConfig back = read_run_config(good);
    for (const Param<RunConfig>& p : run_parameters()) EXPECT_EQ(p.get(back), p.get(c)) << p.spec.key;

    int checked = 0;
    for (const Param<RunConfig>& p : run_parameters()) {
        for (int variant = 0; variant < 2; ++variant) {
            const std::string bad = dir.file(std::string("bad-") + p.spec.key + std::to_string(variant) + ".h5");
            std::filesystem::copy_file(good, bad);
            {
                h5::Id f = h5::open_file(bad, true);
                h5::Id g = h5::open_group(f, "/parameters");
                // variant 0: outside the rule; variant 1: the wrong kind of value.
                if (variant == 1) {
                    if (p.spec.kind == ParamKind::text) h5::set_attr(g, p.spec.key, 1.0);
                    else h5::set_attr(g, p.spec.key, std::string("1"));
                } else if (p.spec.kind == ParamKind::real) {
                    h5::set_attr(g, p.spec.key, std::nan(""));
                } else if (p.spec.kind == ParamKind::integer) {
                    h5::set_attr(g, p.spec.key, std::int64_t(p.spec.lo) - 1);
                } else if (p.spec.kind == ParamKind::sizes) {
                    h5::set_attr(g, p.spec.key, std::vector<std::int64_t>{0, 6});
                } else if (p.spec.choices) {
                    h5::set_attr(g, p.spec.key, std::string("bogus"));
                } else {
                    h5::set_attr(g, p.spec.key, std::string(""));
                }
            }
            try {
                read_run_config(bad);
                ADD_FAILURE() << p.spec.key << " variant " << variant << " was accepted";
            } catch (const Error& e) {
                EXPECT_EQ(e.exit_code(), exit_code::io) << e.what();
                EXPECT_NE(std::string(e.what()).find("/parameters/" + std::string(p.spec.key)), std::string::npos)
                    << e.what();
                ++checked;
            }
        }
    }
    EXPECT_EQ(checked, 2 * int(run_parameters().size()));
}

}  // namespace
}  // namespace xyzmf::test

namespace xyzmf::test {
namespace {

// A batch job's log (stderr not a terminal) gets whole progress lines with an ETA,
// about once a minute; XYZMF_PROGRESS_EVERY=0 makes it every record, so a short run shows them.
TEST(Validation, BatchLogsGetWholeProgressLines) {
    ScratchDir dir;
    ::setenv("XYZMF_PROGRESS_EVERY", "0", 1);
    const CommandResult run = run_xyzmf("run --backend cpu --size 8 --t-end 2 -o " + dir.file("r.h5"));
    const CommandResult sweep = run_xyzmf("sweep --backend cpu --x Jx:0:1:2 --y Jy:0:1:2 --size 4 --t-end 1 "
                                          "--batch-points 1 -o " + dir.file("s.h5"));
    const CommandResult quantum = run_xyzmf("quantum --sites 4 --Jx 1 --trajectories 4 --batch 2 --t-end 1 "
                                            "--burn-in 0 --backend cpu -o " + dir.file("q.h5"));
    ::unsetenv("XYZMF_PROGRESS_EVERY");
    for (const CommandResult* r : {&run, &sweep, &quantum}) {
        EXPECT_EQ(r->exit_code, 0) << r->stderr_text;
        EXPECT_EQ(r->stderr_text.find('\r'), std::string::npos) << "a terminal redraw in a log: " << r->stderr_text;
        EXPECT_NE(r->stderr_text.find("ETA"), std::string::npos) << r->stderr_text;
    }
    EXPECT_NE(run.stderr_text.find("t = 2 "), std::string::npos) << run.stderr_text;
    EXPECT_NE(run.stderr_text.find("100.0%"), std::string::npos) << run.stderr_text;
    EXPECT_NE(sweep.stderr_text.find("sweep: 4/4 points"), std::string::npos) << sweep.stderr_text;
    EXPECT_NE(quantum.stderr_text.find("trajectories done"), std::string::npos) << quantum.stderr_text;
    // Without the setting, a short run in a log stays silent (the first line comes after a minute).
    EXPECT_EQ(run_xyzmf("run --backend cpu --size 8 --t-end 2 -o " + dir.file("r2.h5")).stderr_text, "");
}

// A state that is not there is named with what is: the snapshots a file has as runs
// (a salvaged file may miss some), and a file `analyze --out` wrote as what it is.
TEST(Validation, MissingStatesAreNamedWithWhatTheFileHolds) {
    ScratchDir dir;
    const std::string run = dir.file("r.h5"), an = dir.file("an.h5");
    ASSERT_EQ(run_xyzmf("run -q --backend cpu --size 8 --t-end 2 --snapshot-every 0.5 -o " + run).exit_code, 0);
    ASSERT_EQ(run_xyzmf("analyze " + run + " --out " + an).exit_code, 0);
    {
        h5::Id f = h5::open_file(run, true);
        ASSERT_GE(H5Adelete_by_name(f, snapshot_group(2).c_str(), "complete", H5P_DEFAULT), 0);  // as if torn
    }
    const CommandResult gap = run_xyzmf("analyze " + run + " --snapshot 2");
    EXPECT_EQ(gap.exit_code, 3);
    EXPECT_NE(gap.stderr_text.find("has no snapshot 2 (it has 0..1, 3..4)"), std::string::npos) << gap.stderr_text;
    for (const std::string& cmd : {"analyze " + an, "analyze " + an + " --all-snapshots", "analyze " + an + " --snapshot 1",
                                   "export " + an + " --xdmf"}) {
        const CommandResult r = run_xyzmf(cmd);
        EXPECT_EQ(r.exit_code, 3) << cmd;
        EXPECT_NE(r.stderr_text.find("it is an analysis that `analyze --out` wrote (no spins); give the run file it analysed"),
                  std::string::npos)
            << cmd << " -> " << r.stderr_text;
    }
}

}  // namespace
}  // namespace xyzmf::test
