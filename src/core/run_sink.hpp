// Where a run reports what it produces: the time loop (Simulation, core) calls
// these, and knows nothing of files; io's RunOutput writes them to HDF5
// (docs/hdf5-layout.md). Calls other than path() come from the run's writer
// thread, in the order the loop made them.
#pragma once

#include <cstdint>
#include <string>

#include "host_state.hpp"
#include "xyzmf/stage_ops.hpp"

namespace xyzmf {

class RunSink {
public:
    virtual ~RunSink() = default;
    // One time-series row: the observables of the state at t on `sites` sites.
    virtual void record(double t, const Observables& o, index_t sites) = 0;
    // Snapshot number `index` (0, 1, ...) of the state at t after `step` steps.
    virtual void snapshot(std::int64_t index, double t, std::int64_t step, double dt_next, const StateView& s) = 0;
    // The last state, and why the run stopped there ("t_end", "steady", ...).
    virtual void final_state(double t, std::int64_t step, const StateView& s, const std::string& reason,
                             double residual) = 0;
    // How the run ended, when it did not reach its end (blow-up, interrupted).
    virtual void set_status(const std::string& status) = 0;
    // What a message names as the place the states are kept.
    virtual const std::string& path() const = 0;
    // The name RunHooks::on_state gives snapshot `index`'s state ("/snapshots/000003").
    virtual std::string snapshot_where(std::int64_t index) const = 0;
    // Runs first on the writer thread (HDF5's error printing is per thread).
    virtual void on_writer_thread() {}
};

}  // namespace xyzmf
