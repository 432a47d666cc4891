// Shared test utilities: the list of backends this build and machine can run,
// small state builders, a scratch directory, and running the xyzmf binary.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <stdexcept>
#include <vector>

#include <stdlib.h>
#include <sys/stat.h>

#include "backend_select.hpp"
#include "initial_state.hpp"
#include "quantum.hpp"
#include "run_config.hpp"
#include "simulation.hpp"

namespace xyzmf {
// GoogleTest prints backend parameters by name (found by ADL).
inline void PrintTo(BackendKind k, std::ostream* os) { *os << (k == BackendKind::cpu ? "cpu" : "cuda"); }
}  // namespace xyzmf

namespace xyzmf::test {

inline std::vector<BackendKind> all_backends() { return {BackendKind::cpu, BackendKind::cuda}; }
inline std::string backend_name(const ::testing::TestParamInfo<BackendKind>& p) {
    return p.param == BackendKind::cpu ? "cpu" : "cuda";
}
// Skips the current test when the backend cannot run here.
#define XYZMF_REQUIRE_BACKEND(kind)                                                                  \
    do {                                                                                            \
        if ((kind) == ::xyzmf::BackendKind::cuda && ::xyzmf::cuda_device_count() == 0)               \
            GTEST_SKIP() << "no CUDA device present (or built without CUDA): GPU case skipped";      \
    } while (0)

inline Lattice lattice(int dim, index_t L) {
    Lattice lat;
    lat.dim = dim;
    for (int a = 0; a < dim; ++a) lat.L[a] = L;
    return lat;
}

inline RunConfig config(const Lattice& lat, double Jx, double Jy, double Jz, double gamma = 1, double gamma_phi = 0) {
    RunConfig c;
    c.lattice = lat;
    c.couplings = {Jx, Jy, Jz, gamma, gamma_phi};
    c.numerics.steady_tol = 0;
    c.numerics.record_every = 1e9;  // tests observe the state themselves
    c.numerics.steps_per_pass = 1;  // the fused stepper on every lattice (the CPU would pick four sweeps on small ones)
    return c;
}

// Integrates cfg from s0 to cfg.numerics.t_end on `kind`, without a file.
template <class Real = double>
HostState evolve(const RunConfig& cfg, BackendKind kind, const HostState& s0) {
    auto be = make_backend<Real>(kind);
    Simulation<Real> sim(cfg, *be);
    sim.set_state(s0);
    sim.run(nullptr);
    return sim.state();
}

template <class Real = double>
HostState rate_of(const RunConfig& cfg, BackendKind kind, const HostState& s) {
    auto be = make_backend<Real>(kind);
    Simulation<Real> sim(cfg, *be);
    sim.set_state(s);
    return sim.rate();
}

inline double max_abs_diff(const HostState& a, const HostState& b) {
    double m = 0;
    for (std::size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
    return m;
}

// Quantum trajectories of c on `backend`, without a file or a progress line.
inline TrajectoryRun quantum_trajectories(const QuantumConfig& c, const std::string& backend = "cpu") {
    QuantumRunRequest req;
    req.config = c;
    req.backend = backend;
    TrajectoryHooks quiet;
    quiet.quiet = true;
    return run_trajectories(req, quiet);
}

// Trajectory averages s against the exact steady state e within `within`
// standard errors: <sz> and the correlations at r = 1 .. r_max. A correlation
// zero in every trajectory (s.e. 0) is a symmetry, so it must be exact too.
inline void expect_trajectories_agree(const TrajectorySummary& s, const ExactResults& e, int r_max, double within) {
    EXPECT_LT(std::abs(s.sz - e.sz), within * s.sz_err) << s.sz << " +- " << s.sz_err << " vs " << e.sz;
    for (int a = 0; a < 3; ++a)
        for (int r = 1; r <= r_max; ++r) {
            if (s.err.c[a][r] == 0) {
                EXPECT_NEAR(e.corr.c[a][r], s.mean.c[a][r], 1e-9) << "a = " << a << " r = " << r;
                continue;
            }
            EXPECT_LT(std::abs(s.mean.c[a][r] - e.corr.c[a][r]), within * s.err.c[a][r])
                << "a = " << a << " r = " << r << ": " << s.mean.c[a][r] << " +- " << s.err.c[a][r] << " vs "
                << e.corr.c[a][r];
        }
}

// A fresh directory per test, removed afterwards. mkdtemp makes the name
// unique, so two suites running at once (two build folders, two CI jobs on
// one runner) never remove each other's files.
class ScratchDir {
public:
    ScratchDir() {
        const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
        std::string name = std::string(info->test_suite_name()) + "_" + info->name();
        for (char& ch : name)
            if (ch == '/') ch = '_';
        std::string templ = (std::filesystem::temp_directory_path() / ("xyzmf_test_" + name + "_XXXXXX")).string();
        if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp " + templ + " failed");
        path_ = templ;
    }
    ~ScratchDir() { std::filesystem::remove_all(path_); }
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    std::filesystem::path path_;
};

// What shows a file was kept, not rewritten or replaced: its inode and its
// bytes (a modification time can repeat within one clock tick).
struct FileIdentity {
    ino_t inode = 0;
    std::string bytes;
    bool operator==(const FileIdentity& o) const { return inode == o.inode && bytes == o.bytes; }
};
inline FileIdentity file_identity(const std::string& path) {
    FileIdentity id;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return id;
    id.inode = st.st_ino;
    std::ifstream in(path, std::ios::binary);
    id.bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    return id;
}

struct CommandResult {
    int exit_code;
    std::string stderr_text;
};

// The program built beside the tests, or $XYZMF_EXE (a copy of the binaries run
// where the build folder is not, e.g. on a lent GPU machine).
inline std::string xyzmf_exe() {
    const char* e = std::getenv("XYZMF_EXE");
    return e && *e ? e : XYZMF_BINARY;
}

// Runs `xyzmf ARGS` with stdout discarded (or kept, all_output); returns exit code and stderr (+ stdout).
inline CommandResult run_xyzmf(const std::string& args, bool all_output = false) {
    const std::string cmd = xyzmf_exe() + " " + args + (all_output ? " 2>&1" : " 2>&1 >/dev/null");
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    while (p && std::fgets(buf, sizeof buf, p)) out += buf;
    const int status = p ? pclose(p) : -1;
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}
inline CommandResult run_xyzmf_all_output(const std::string& args) { return run_xyzmf(args, true); }

}  // namespace xyzmf::test
