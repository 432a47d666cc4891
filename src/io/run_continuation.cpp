#include "run_continuation.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "fixed_step.hpp"
#include "hdf5.hpp"
#include "output_file.hpp"
#include "parameters.hpp"
#include "run_journal.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

std::string num(double v) { return value_text(ParamValue(v)); }  // as parameter refusals write numbers

}  // namespace

bool run_file_finished(const std::string& path) {
    try {
        h5::Id file = open_xyzmf(path, false);
        return h5::has_attr(file, "status") && h5::attr_string(file, "status").rfind("finished", 0) == 0;
    } catch (const Error&) {
        return false;
    }
}

ContinuationStart check_continuation(const std::string& path, double t_end, bool with_spins) {
    const std::string what = "--continue-from " + path;
    h5::Id file = open_xyzmf(path, false);
    const RunConfig cfg = read_run_config(file, path);
    const std::string status = h5::has_attr(file, "status") ? h5::attr_string(file, "status") : "";
    ContinuationStart c;
    c.snapshot_every = cfg.snapshot_interval();
    c.record_every = cfg.numerics.record_every;
    if (!(c.snapshot_every > 0)) {  // a run to t_end = 0 had none: the new run's, t_end / 10 in whole steps
        const double dt = cfg.numerics.dt;
        c.snapshot_every = cfg.numerics.integrator == IntegratorKind::rk4 && dt > 0
                               ? std::max(1.0, std::round(t_end / 10 / dt)) * dt
                               : t_end / 10;
    }
    c.file_snapshot_every = c.snapshot_every;
    c.file_record_every = c.record_every;
    if (cfg.numerics.integrator == IntegratorKind::rk4 && cfg.numerics.dt > 0 && t_end > 0) {
        // As a new run keeps them (an interval beyond the old t_end was kept as given).
        const FixedStepPlan plan = FixedStepPlan::make(cfg.numerics.dt, t_end);
        c.snapshot_every = plan.interval_in_use(c.snapshot_every);
        c.record_every = plan.interval_in_use(c.record_every);
    }
    c.from_final = status.rfind("finished", 0) == 0;
    // (a salvaged file adds "; salvaged by xyzmf repair (...)" to the status)
    const std::string reached = "finished: reached t_end";
    const bool reached_t_end = status == reached || status.rfind(reached + ";", 0) == 0;
    if ((c.from_final && !reached_t_end) || status.rfind("blow-up", 0) == 0)
        throw Error(what + ": the run's status is \"" + status +
                        "\"; only a run that reached its t_end or was stopped is carried on" +
                        (c.from_final ? " (to go on from its final state as a new run: --init " + path + ":/final)"
                                      : std::string()),
                    exit_code::usage);
    if (!c.from_final) {  // stopped: on from its last snapshot, which --resume reads (only its time here)
        const std::vector<std::int64_t> snaps = snapshot_indices(file);
        if (snaps.empty()) throw Error(what + ": holds no complete snapshot to carry on from", exit_code::io);
        c.state.t = h5::read_scalar(h5::open_group(file, snapshot_group(snaps.back())), "t");
        if (!(t_end > c.state.t))
            throw Error("--t-end " + num(t_end) + ": must be later than the last snapshot of " + path +
                            " (t = " + num(c.state.t) + ")",
                        exit_code::usage);
        return c;
    }
    if (cfg.numerics.integrator != IntegratorKind::rk4)
        throw Error(what + ": a finished dopri5 run (its adaptive steps were clipped to land on t_end); only "
                          "finished rk4 runs, whose steps lie on one time grid, are carried on",
                    exit_code::usage);
    c.state = read_state_group(file, path, "/final", with_spins);
    const double t = c.state.t, dt = cfg.numerics.dt;
    if (!(t_end > t))
        throw Error("--t-end " + num(t_end) + ": must be later than the final time of " + path + " (t = " + num(t) + ")",
                    exit_code::usage);
    // Carried on in whole steps of dt: the final time must be one of them, or
    // the continued run's clock would differ from an uninterrupted run's.
    if (std::abs(double(c.state.step) * dt - t) > 1e-9 * std::max(1.0, t))
        throw Error(what + ": its final time t = " + num(t) + " is not a whole number of steps dt = " + num(dt) +
                        " (its last step was shortened to land on t_end); continue from a snapshot with --init instead",
                    exit_code::usage);
    const std::vector<std::int64_t> snaps = snapshot_indices(file);
    c.next_snapshot = snaps.empty() ? 0 : snaps.back() + 1;
    c.rows = std::int64_t(h5::dataset_dims(file, "/timeseries/t").at(0));
    return c;
}

void set_continuation_times(const std::string& path, const ContinuationStart& from, double t_end) {
    {
        h5::Id file = open_xyzmf(path, true);
        h5::Id p = h5::open_group(file, "/parameters");
        h5::set_attr(p, "t_end", t_end);
        h5::set_attr(p, "snapshot_every", from.snapshot_every);
        h5::set_attr(p, "record_every", from.record_every);
        flush_file(file, path);
    }
    if (from.from_final) ::unlink(RunJournal::path_for(OutputLock::resolve(path)).c_str());
}

}  // namespace xyzmf
