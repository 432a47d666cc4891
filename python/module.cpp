// The compiled half of the Python package: the xyzmf command line, run in
// this process (xyzmf/commands.py turns keyword arguments into it), and the
// analysis of one state held in a numpy array. No physics here: both call the
// library the program calls.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <unistd.h>

#include <cmath>
#include <csignal>
#include <mutex>
#include <memory>
#include <optional>
#include <cstdio>
#include <string>
#include <vector>

#include "cli.hpp"
#include "analysis.hpp"
#include "bloch_ball.hpp"
#include "xyzmf/error.hpp"
#include "progress.hpp"
#include "run_config.hpp"
#include "schema.hpp"
#include "signals.hpp"
#include "subnormals.hpp"
#include "xyzmf/version.hpp"

namespace py = pybind11;

namespace {

// The stop signals (and SIGXFSZ, ignored so that a file-size limit is "disk
// full") are the command's from a call's first instruction to its return, and
// Python's again afterwards. Calls may run at once in several threads: the
// first to start installs the handlers, the last to end restores Python's.
// A SIGTERM, SIGHUP or SIGQUIT that stopped a command (which closed its file
// cleanly) is then raised again, so that it has the effect it has in Python
// (by default: the process ends by that signal); SIGINT becomes the
// KeyboardInterrupt that xyzmf/commands.py raises for exit code 130.
class SignalsInstalled {
public:
    SignalsInstalled() {
        std::lock_guard<std::mutex> hold(mutex());
        State& s = state();
        if (s.users++ > 0) return;
        for (int i = 0; i < kCount; ++i) {
            sigaction(kSignals[i], nullptr, &s.old[i]);
            s.count[i] = kSignals[i] == SIGXFSZ ? 0 : xyzmf::stop_signal_count(kSignals[i]);
        }
        xyzmf::install_interrupt_handlers();
        std::signal(SIGXFSZ, SIG_IGN);
    }
    ~SignalsInstalled() {
        std::lock_guard<std::mutex> hold(mutex());
        State& s = state();
        if (--s.users > 0) return;
        for (int i = 0; i < kCount; ++i) sigaction(kSignals[i], &s.old[i], nullptr);
        for (int i = 0; i < kCount; ++i)
            if (kSignals[i] != SIGINT && kSignals[i] != SIGXFSZ && xyzmf::stop_signal_count(kSignals[i]) != s.count[i])
                ::kill(::getpid(), kSignals[i]);
    }
    SignalsInstalled(const SignalsInstalled&) = delete;
    SignalsInstalled& operator=(const SignalsInstalled&) = delete;

private:
    static constexpr int kCount = 5;
    static constexpr int kSignals[kCount] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGXFSZ};
    struct State {
        int users = 0;
        struct sigaction old[kCount];
        unsigned count[kCount] = {};
    };
    static State& state() {
        static State s;
        return s;
    }
    static std::mutex& mutex() {
        static std::mutex m;
        return m;
    }
};

// Sends what the command prints on stdout to a temporary file while it runs
// (Jupyter shows Python's output, not the C library's).
class StdoutCaptured {
public:
    StdoutCaptured() {
        std::fflush(stdout);
        file_ = std::tmpfile();
        saved_ = file_ ? ::dup(1) : -1;
        if (saved_ >= 0) ::dup2(::fileno(file_), 1);
    }
    StdoutCaptured(const StdoutCaptured&) = delete;
    StdoutCaptured& operator=(const StdoutCaptured&) = delete;
    std::string finish() {
        std::string text;
        if (saved_ < 0) return text;
        std::fflush(stdout);
        ::dup2(saved_, 1);
        ::close(saved_);
        saved_ = -1;
        std::rewind(file_);
        char buf[4096];
        for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, file_)) > 0;) text.append(buf, n);
        return text;
    }
    ~StdoutCaptured() {
        finish();
        if (file_) std::fclose(file_);
    }

private:
    std::FILE* file_ = nullptr;
    int saved_ = -1;
};

// What one call changes, undone however it ends: its stop state (signals
// count from its first instruction; a stop its callback asks for is its own),
// the signal handlers, and its progress listener (this thread's only).
class CallScope {
public:
    explicit CallScope(xyzmf::ProgressListener listener) : listener_(std::move(listener)) {}
    void request_stop(const char* why) { stop_.request_stop(why); }

private:
    xyzmf::StopScope stop_{false};  // first: a signal from here on is this call's
    SignalsInstalled signals_;
    xyzmf::ProgressListenerScope listener_;
};

// Runs one command line. Returns (exit code, one-line error, --help text,
// captured stdout). A progress callback gets a dict per report; if it raises,
// the run stops as after Ctrl-C and the exception is raised here.
py::tuple run_command(const std::vector<std::string>& args, py::object progress, bool capture) {
    xyzmf::cli::CommandOutput out;
    std::string printed;
    int code = 0;
    std::unique_ptr<py::error_already_set> raised;
    // The callback's contract: a last report (last = True) ends every call, also one
    // that stopped early or whose command has no final update of its own (exact
    // quantum without --gap); it repeats the latest report's numbers, at fraction 1
    // when the command succeeded.
    std::optional<xyzmf::ProgressReport> latest;
    {
        CallScope* self = nullptr;
        xyzmf::ProgressListener listener;
        if (!progress.is_none()) {
            listener = [&](const xyzmf::ProgressReport& r) {
                const xyzmf::SubnormalsKept as_python_computes;  // (the command flushes them)
                py::gil_scoped_acquire gil;
                if (raised) return;
                latest = r;
                try {
                    py::dict d;
                    d["fraction"] = r.fraction;
                    d["what"] = r.what;
                    d["elapsed"] = r.elapsed_s;
                    d["eta"] = r.eta_s;  // NaN until something is done
                    d["last"] = r.last;
                    progress(d);
                } catch (py::error_already_set& e) {
                    raised = std::make_unique<py::error_already_set>(std::move(e));
                    self->request_stop("its progress callback raised");
                }
            };
        }
        CallScope scope(listener);  // (a copy: the last report below calls it too)
        self = &scope;
        std::optional<StdoutCaptured> captured;
        if (capture) captured.emplace();
        {
            py::gil_scoped_release nogil;
            code = xyzmf::cli::run_command_line(args, "xyzmf", &out);
        }
        if (captured) printed = captured->finish();
        if (latest && !latest->last && !raised) {
            xyzmf::ProgressReport end = *latest;
            end.last = true;
            if (code == 0) end.fraction = 1, end.eta_s = 0;  // the work is done (exact quantum's stages have no fraction)
            listener(end);  // (holds the GIL itself; this thread has it)
        }
    }
    if (raised) throw py::error_already_set(std::move(*raised));
    return py::make_tuple(code, out.error, out.text, printed);
}

// Analysis of one state given as an array shaped like a file's spins
// ((Lx, 3), (Ly, Lx, 3) or (Lz, Ly, Lx, 3)): (exit code, one-line error, the
// JSON summary of `xyzmf analyze`).
py::tuple analyze_state(py::array_t<double, py::array::c_style | py::array::forcecast> spins, double Jx, double Jy,
                          double Jz, double gamma, double gamma_phi, double t) try {
    const int dim = int(spins.ndim()) - 1;
    if (dim < 1 || dim > 3 || spins.shape(dim) != 3)
        throw xyzmf::Error("spins: expected an array of shape (Lx, 3), (Ly, Lx, 3) or (Lz, Ly, Lx, 3), got " +
                               std::to_string(spins.ndim()) + " axes",
                           xyzmf::exit_code::usage);
    xyzmf::Lattice lat;
    lat.dim = dim;
    for (int a = 0; a < dim; ++a) lat.L[a] = spins.shape(dim - 1 - a);
    for (int a = 0; a < dim; ++a)
        if (lat.L[a] < 2) throw xyzmf::Error("spins: every side must be at least 2 sites", xyzmf::exit_code::usage);
    const xyzmf::Couplings c{Jx, Jy, Jz, gamma, gamma_phi};
    xyzmf::check_all(xyzmf::couplings_parameters(), c, xyzmf::ParamSource::command_line());
    const xyzmf::index_t n = lat.sites();
    std::vector<double> aos(spins.data(), spins.data() + 3 * n);
    for (double v : aos)
        if (!std::isfinite(v)) throw xyzmf::Error("spins: not finite (NaN or inf)", xyzmf::exit_code::usage);
    // Bloch vectors, as a file's spins must be (to the default --norm-tol).
    const double norm_tol = xyzmf::Numerics{}.norm_tol;
    for (xyzmf::index_t i = 0; i < n; ++i) {
        const double r2 = aos[3 * i] * aos[3 * i] + aos[3 * i + 1] * aos[3 * i + 1] + aos[3 * i + 2] * aos[3 * i + 2];
        if (!xyzmf::in_bloch_ball(r2, norm_tol))
            throw xyzmf::Error("spins: site " + std::to_string(i) + " has |s| = " + std::to_string(std::sqrt(r2)) +
                                   " > 1 (not a Bloch vector)",
                               xyzmf::exit_code::usage);
    }
    nlohmann::json j;
    {
        py::gil_scoped_release nogil;
        xyzmf::Analyzer an(lat, c, xyzmf::AnalysisOptions{});
        j = xyzmf::to_json(an.analyze(xyzmf::to_soa(aos, n), t, -1, "array"));
    }
    return py::make_tuple(0, "", j.dump());
} catch (const xyzmf::Error& e) {
    return py::make_tuple(e.exit_code(), std::string(e.what()), "");
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "xyzmf's C++ library: the command line and the analysis of one state (used by the xyzmf package)";
    m.attr("version") = XYZMF_VERSION;
    m.attr("git_revision") = XYZMF_GIT_REVISION;
    m.def("command_options", [](const std::string& command) {
        py::list out;
        for (const xyzmf::cli::OptionInfo& o : xyzmf::cli::command_options(command)) {
            py::dict d;
            d["name"] = o.name;
            d["default"] = o.default_text;
            d["help"] = o.description;
            d["flag"] = o.flag;
            out.append(d);
        }
        return out;
    });
    m.def("run_command", &run_command, py::arg("args"), py::arg("progress") = py::none(), py::arg("capture") = false);
    m.def("analyze_state", &analyze_state, py::arg("spins"), py::arg("Jx"), py::arg("Jy"), py::arg("Jz"),
          py::arg("gamma") = 1.0, py::arg("gamma_phi") = 0.0, py::arg("t") = 0.0);
}
