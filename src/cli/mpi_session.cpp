// The program's MPI session (see mpi_session.hpp). Without -DXYZMF_MPI=ON there
// is no session: launched_by_mpi() is false and a run has no Domain.
#include "mpi_session.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <vector>

#include "cli.hpp"
#include "signals.hpp"
#include "xyzmf/error.hpp"

#ifdef XYZMF_HAVE_MPI
#include <fcntl.h>
#include <mpi.h>
#include <unistd.h>

#include "slab.hpp"
#include "slab_analysis.hpp"
#endif

namespace xyzmf::cli {

namespace {
bool g_agreed = false;     // the error being reported was agreed by every rank (on_root)
[[maybe_unused]] bool g_own_error = false;  // this rank failed otherwise than rank 0 (or alone): it says why
[[maybe_unused]] bool g_program = false;   // run_under_mpi began the session (not a Python module under mpi4py)

[[maybe_unused]] bool stop_code(int code) { return code == 129 || code == 130 || code == 131 || code == 143; }

// Errors every rank meets alike (the same options, the same reduced state, a
// stop the ranks compared): reported once, by rank 0. A stop signal counts only
// where the ranks compared it (a run's passes, a collective end): one that came
// during the setup reached this rank alone, while the others may wait for it in
// a collective call.
[[maybe_unused]] bool alike(int code) {
    if (stop_code(code)) return stop_agreed();
    return code == exit_code::usage || code == exit_code::blow_up;
}
}  // namespace

namespace {
bool in_session() {
#ifdef XYZMF_HAVE_MPI
    int on = 0, off = 0;
    MPI_Initialized(&on);
    if (on) MPI_Finalized(&off);
    return on && !off;
#else
    return false;
#endif
}
}  // namespace

bool session_root() {
#ifdef XYZMF_HAVE_MPI
    if (in_session()) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        return rank == 0;
    }
#endif
    return true;
}

void share_from_root(void* data, int bytes) {
#ifdef XYZMF_HAVE_MPI
    if (in_session()) MPI_Bcast(data, bytes, MPI_BYTE, 0, MPI_COMM_WORLD);
#else
    (void)data;
    (void)bytes;
#endif
}

std::string share_string_from_root(const std::string& mine) {
    unsigned long long n = mine.size();
    share_from_root(&n, int(sizeof n));
    std::string s = mine;
    s.resize(std::size_t(n));
    if (n > 0) share_from_root(s.data(), int(n));
    return s;
}

int session_rank() {
#ifdef XYZMF_HAVE_MPI
    if (in_session()) {
        int rank = 0;
        MPI_Comm_rank(MPI_COMM_WORLD, &rank);
        return rank;
    }
#endif
    return 0;
}

int session_ranks() {
#ifdef XYZMF_HAVE_MPI
    if (in_session()) {
        int ranks = 1;
        MPI_Comm_size(MPI_COMM_WORLD, &ranks);
        return ranks;
    }
#endif
    return 1;
}

void sum_over_ranks(double* v, int n) {
#ifdef XYZMF_HAVE_MPI
    if (in_session()) MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
#else
    (void)v;
    (void)n;
#endif
}

#ifdef XYZMF_HAVE_MPI
// Each rank sends each other rank two words. The first when its part ends: the
// signal that stopped it, -1 when it failed otherwise, 0 when it ran to its end.
// The second once every first word has come: a signal that reached it after a first
// word of 0 (a rank whose part is done still passes a stop on while others work), or
// 0. Every rank sends both, so every receive completes and nothing is left in flight.
struct StopRelay::Words {
    MPI_Comm comm = MPI_COMM_NULL;  // its own, so that no other message can match
    int rank = 0;
    int first = -2;  // the first word said (-2: not yet)
    bool said_second = false, failed_elsewhere = false;
    std::vector<int> in[2], out[2];
    std::vector<MPI_Request> heard[2], said[2];

    void say(int tag, int word) {
        if (tag == 0) first = word; else said_second = true;
        for (std::size_t k = 0; k < out[tag].size(); ++k) {
            if (int(k) == rank) continue;
            out[tag][k] = word;
            MPI_Isend(&out[tag][k], 1, MPI_INT, int(k), tag, comm, &said[tag][k]);
        }
    }
    // What came so far: a stop is adopted, a failure remembered. True when every
    // word of this tag has come.
    bool listen(int tag) {
        bool all = true;
        for (std::size_t k = 0; k < heard[tag].size(); ++k) {
            if (heard[tag][k] == MPI_REQUEST_NULL) continue;
            int arrived = 0;
            MPI_Test(&heard[tag][k], &arrived, MPI_STATUS_IGNORE);
            if (!arrived) {
                all = false;
                continue;
            }
            if (in[tag][k] > 0) adopt_stop_signal(in[tag][k]);
            if (in[tag][k] == -1) failed_elsewhere = true;
        }
        return all;
    }
};

StopRelay::StopRelay() {
    if (!in_session() || session_ranks() < 2) return;
    words_ = std::make_unique<Words>();
    Words& w = *words_;
    MPI_Comm_dup(MPI_COMM_WORLD, &w.comm);
    const std::size_t P = std::size_t(session_ranks());
    w.rank = session_rank();
    for (int tag = 0; tag < 2; ++tag) {
        w.in[tag].assign(P, 0);
        w.out[tag].assign(P, 0);
        w.heard[tag].assign(P, MPI_REQUEST_NULL);
        w.said[tag].assign(P, MPI_REQUEST_NULL);
        for (std::size_t k = 0; k < P; ++k)
            if (int(k) != w.rank) MPI_Irecv(&w.in[tag][k], 1, MPI_INT, int(k), tag, w.comm, &w.heard[tag][k]);
    }
}

void StopRelay::poll() {
    if (!words_) return;
    Words& w = *words_;
    if (w.first == -2 && interrupt_signal() != 0) w.say(0, interrupt_signal());
    w.listen(0);
    w.listen(1);
    // Another rank failed (its own line says why): this one stops too, silently.
    if (w.failed_elsewhere && interrupt_signal() == 0 && w.first == -2) throw Error("", 1);
}

StopRelay::~StopRelay() {
    if (!words_) return;
    Words& w = *words_;
    // (unwinding without a stop signal: this rank failed)
    if (w.first == -2) w.say(0, interrupt_signal() != 0 ? interrupt_signal() : std::uncaught_exceptions() > 0 ? -1 : 0);
    // Every first word, passing on a stop that reaches this rank meanwhile. (A second
    // word that comes meanwhile matters no more here: this rank's part is over.)
    while (!w.listen(0)) {
        if (w.first == 0 && !w.said_second && interrupt_signal() != 0) w.say(1, interrupt_signal());
        const timespec pause{0, 5000000};  // 5 ms between looks: the others may work for hours
        nanosleep(&pause, nullptr);
    }
    if (!w.said_second) w.say(1, 0);
    for (int tag = 0; tag < 2; ++tag) {
        MPI_Waitall(int(w.heard[tag].size()), w.heard[tag].data(), MPI_STATUSES_IGNORE);
        MPI_Waitall(int(w.said[tag].size()), w.said[tag].data(), MPI_STATUSES_IGNORE);
    }
    MPI_Comm_free(&w.comm);
}
#else
struct StopRelay::Words {};
StopRelay::StopRelay() = default;
StopRelay::~StopRelay() = default;
void StopRelay::poll() {}
#endif

int agree_on_command_line(int code, std::string& error) {
#ifdef XYZMF_HAVE_MPI
    if (!in_session() || !g_program) return code;
    int worst = 0;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst == 0) return 0;
    const std::string said = share_string_from_root(error);
    if (!session_root() && error == said) error.clear();
    g_own_error = !session_root() && !error.empty();  // (a rank-local --config file, say)
    g_agreed = true;  // every rank stops here, none inside a command
    return code != 0 ? code : worst;
#else
    (void)error;
    return code;
#endif
}

void on_every_rank(const std::function<void()>& f) {
    if (!in_session()) return f();
    int code = 0;
    std::exception_ptr e;
    std::string message;  // (empty: a silent error, another rank says why)
    try {
        f();
    } catch (const Error& err) {
        code = err.exit_code();
        e = std::current_exception();
        message = err.what();
    }
    const bool own_message = !message.empty();
#ifdef XYZMF_HAVE_MPI
    int worst = 0;
    MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    if (worst != 0 && !stop_code(worst)) {
        // A rank that failed where rank 0 did not (a node with less memory, say)
        // says why itself, also with an error of a kind all ranks meet alike;
        // where rank 0 failed too, its line stands for all. (A stop is told once,
        // by rank 0.)
        g_own_error = share_string_from_root(message).empty() && !session_root() && own_message;
    }
    code = worst;
#endif
    if (code == 0) return;
    g_agreed = true;
    if (stop_code(code)) mark_stop_agreed();
    // (a rank that stopped only because another failed, silently: the job's code)
    if (e && own_message) std::rethrow_exception(e);
    throw Error("", code);  // silent: the ranks that failed say why
}

void on_root(const std::function<void()>& f) {
    if (!in_session()) return f();
    int code = 0;
    std::exception_ptr e;
    if (session_root()) {
        try {
            f();
        } catch (const Error& err) {
            code = err.exit_code();
            e = std::current_exception();
        }
    }
    share_from_root(&code, int(sizeof code));
    if (code == 0) return;
    g_agreed = true;
    if (stop_code(code)) mark_stop_agreed();
    if (e) std::rethrow_exception(e);
    throw Error("", code);  // silent: rank 0 says what happened
}

bool launched_by_mpi() {
#ifdef XYZMF_HAVE_MPI
    // Open MPI's mpirun, PMIx launchers (srun --mpi=pmix, Open MPI 5), PMI-1/2 launchers.
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
        if (std::getenv(v)) return true;
#endif
    return false;
}

int run_under_mpi(const std::vector<std::string>& arguments, const std::string& program) {
#ifdef XYZMF_HAVE_MPI
    int provided = 0, rank = 0, ranks = 1;
    MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided);  // MPI from the main thread only
    g_program = true;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    // One rank per GPU: the ranks of a node take its devices in turn (by
    // their rank among the node's ranks), before any backend exists.
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node);
    int local_rank = 0;
    MPI_Comm_rank(node, &local_rank);
    MPI_Comm_free(&node);
    int code = 0;
    try {
        cuda_select_device(local_rank);
    } catch (const Error& e) {
        std::fprintf(stderr, "xyzmf (rank %d of %d): error: %s\n", rank, ranks, e.what());
        MPI_Abort(MPI_COMM_WORLD, e.exit_code());
    }
    // Commands other than run and sweep are refused; anything else (no command, a
    // word that is none, --version) goes to the command line, which says it once.
    const std::vector<std::string> names = command_names();
    const bool other = !arguments.empty() && arguments[0] != "run" && arguments[0] != "sweep" &&
                       std::find(names.begin(), names.end(), arguments[0]) != names.end();
    if (ranks > 1 && other) {
        if (rank == 0)
            std::fprintf(stderr,
                         "xyzmf: error: mpirun: only `xyzmf run` (one lattice over the ranks) and `xyzmf sweep` (its "
                         "points over the ranks) use %d ranks; start `xyzmf %s` without mpirun\n",
                         ranks, arguments[0].c_str());
        code = exit_code::usage;
    } else if (rank == 0) {
        code = run_command_line(arguments, program);
    } else {
        // The other ranks print nothing: rank 0 reports for all of them.
        std::fflush(stdout);
        const int null = ::open("/dev/null", O_WRONLY);
        if (null >= 0) {
            ::dup2(null, 1);
            ::close(null);
        }
        StopScope scope(true);  // the process's stop signals, as the program counts them
        CommandOutput out;
        code = run_command_line(arguments, program, &out);
        if (code != 0 && !out.error.empty() && (!alike(code) || g_own_error))
            std::fprintf(stderr, "xyzmf (rank %d of %d): error: %s\n", rank, ranks, out.error.c_str());
    }
    // Every rank ends here together where the error was agreed or met alike.
    if (code == 0 || g_agreed || alike(code)) {
        MPI_Finalize();
        return code;
    }
    // This rank failed alone while the others may wait for it in a collective call.
    std::fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
    return code;
#else
    return run_command_line(arguments, program);
#endif
}

template <class Real>
std::unique_ptr<Domain<Real>> make_run_domain(Backend<Real>& be, const RunConfig& cfg) {
#ifdef XYZMF_HAVE_MPI
    if (!in_session()) return nullptr;
    auto d = std::make_unique<SlabDomain<Real>>(be, MPI_COMM_WORLD, cfg.lattice, cfg.numerics.stepper,
                                                cfg.numerics.steps_per_pass, false, cfg.numerics.integrator);
    // auto: measured on a GPU (whose kernels run while the host talks to MPI);
    // on the CPU stepping holds the threads that would move the rows.
    const HaloExchange halo = cfg.numerics.halo;
    const bool measure = halo == HaloExchange::automatic && be.kind() == BackendKind::cuda;
    if ((halo == HaloExchange::overlap || measure) && cfg.numerics.integrator == IntegratorKind::rk4)
        d->overlap_halo(cfg.couplings, measure);
    return d;
#else
    (void)be;
    (void)cfg;
#endif
    return nullptr;
}

std::function<void(const std::string&, double, const HostState&)> spread_analysis_hook(
    const RunConfig& cfg, const AnalysisOptions& opt, std::function<void(const std::string&, AnalysisParts)> deliver) {
#ifdef XYZMF_HAVE_MPI
    if (in_session()) {
        auto analysis = std::make_shared<SlabAnalysis>(MPI_COMM_WORLD, cfg.lattice, cfg.couplings, opt);
        return [analysis, deliver](const std::string& where, double, const HostState& owned) {
            AnalysisParts parts = analysis->compute(owned);
            if (session_root()) deliver(where, std::move(parts));
        };
    }
#else
    (void)cfg;
    (void)opt;
    (void)deliver;
#endif
    return nullptr;
}

template std::unique_ptr<Domain<float>> make_run_domain<float>(Backend<float>&, const RunConfig&);
template std::unique_ptr<Domain<double>> make_run_domain<double>(Backend<double>&, const RunConfig&);

}  // namespace xyzmf::cli
