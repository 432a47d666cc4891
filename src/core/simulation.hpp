// The time loop: integrates a RunConfig on one Backend, records time series,
// writes snapshots, checks for blow-ups and stationarity, honours Ctrl-C.
// Knows nothing of kernels (Backend) or of files: it reports to a RunSink.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "xyzmf/backend.hpp"
#include "domain.hpp"
#include "initial_state.hpp"
#include "run_config.hpp"
#include "run_sink.hpp"

namespace xyzmf {

enum class StopReason { t_end, steady, interrupted };
const char* to_string(StopReason r);

struct RunSummary {
    StopReason reason = StopReason::t_end;
    double t = 0;
    std::int64_t steps = 0;          // accepted steps in total (including before a resume)
    std::int64_t rejected = 0;       // dopri5 rejections
    double residual = 0;             // max_n |ds_n/dt| at the end
    double mean[3] = {0, 0, 0};
    double staggered[3] = {0, 0, 0};
    double seconds = 0;              // wall time of the loop
    std::int64_t site_steps = 0;     // sites x steps done in this call
};

// Where a run (re)starts: step count, time and next step size.
struct StartPoint {
    std::int64_t step = 0;
    double t = 0;
    double dt_next = 0;              // dopri5 only; 0 = use --dt
    std::int64_t next_snapshot = 0;  // index of the next snapshot to write
};

struct RunHooks {
    // Called at every record: lets the CLI draw its progress line.
    std::function<void(double t, double residual, const RunSummary&)> on_record;
    // Called after each snapshot and the final state are written (run --analyze);
    // where: RunSink::snapshot_where(index), or "/final".
    std::function<void(const std::string& where, double t, const StateView& s)> on_state;
    // A lattice spread over processes (a Domain): called on every process, in
    // step, with the sites this one owns (x, y, z blocks), at each state
    // on_state will see and before it (run --analyze over MPI ranks: what all
    // of them compute together).
    std::function<void(const std::string& where, double t, const HostState& owned)> on_spread_state;
    // On the writer thread of the process with the file, once a state (as
    // on_state, after it) is in the file: what needs no state, such as the
    // analysis that on_spread_state computed (run --analyze over MPI ranks,
    // where no process then holds the whole state).
    std::function<void(const std::string& where, double t)> on_written;
    // A lattice spread over processes that write their own sites (no on_state):
    // called on every process, in step, once each state is in the file (and
    // on_written has run), with the sites this one owns; on the process with the
    // file, `on_writer` runs a job on its writer thread and returns when it is
    // done (elsewhere it runs the job here). run --xdmf over MPI ranks: the
    // sidecar's fields written by every process for its own rows.
    std::function<void(const std::string& where, double t, const HostState& owned,
                       const std::function<void(const std::function<void()>&)>& on_writer)>
        on_spread_written;
    // Tests: behave as if killed after this many steps (the file keeps what was written).
    std::int64_t kill_after_steps = -1;
};

template <class Real>
class RunLoop;  // one call of run() (simulation.cpp)

template <class Real>
class Simulation {
public:
    // With a domain, this process steps only its block of cfg.lattice and the
    // run is collective (src/core/domain.hpp): every process calls the same
    // functions; only the root's RunSink (null elsewhere) writes.
    Simulation(const RunConfig& cfg, Backend<Real>& be, Domain<Real>* domain = nullptr);
    ~Simulation();

    void set_state(const HostState& s);   // also resets the integrator's caches (with a domain: the root's s)
    // With a domain: this process's owned sites (Domain::owned_sites() of them, x, y, z blocks).
    void set_own_state(const HostState& mine);
    HostState state() const;               // downloads to the host (double; with a domain: on the root, else empty)
    HostState rate() const;                // ds/dt of the current state, on the host
    std::string method() const;            // e.g. "rk4 (fused, 2 steps per pass)", "rk4 (four-sweep)", "dopri5"
    double time() const { return start_.t; }

    // Runs from the start point (0 unless set by resume) to t_end or an
    // earlier stop; out may be null. Throws xyzmf::Error(blow_up) on NaN/Inf
    // or |s| > 1 + norm_tol, after marking the file.
    RunSummary run(RunSink* out, const StartPoint& from = {}, const RunHooks& hooks = {});

private:
    friend class RunLoop<Real>;
    struct Impl;
    std::unique_ptr<Impl> impl_;
    StartPoint start_;
};

// Buffers of 3N Reals a run holds on its backend (for the memory check).
int simulation_buffers(const RunConfig& cfg);

}  // namespace xyzmf
