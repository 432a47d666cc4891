// `xyzmf run --continue-from FILE --t-end T`: a finished rk4 run carried on to
// a later time from its final state, its snapshots and time series kept, so a
// coarsening study grows one file on one absolute clock.
#pragma once

#include <cstdint>
#include <string>

#include "schema.hpp"

namespace xyzmf {

// Where a continued run starts: the final state, the snapshot index it writes
// next and the time-series rows it keeps.
struct ContinuationStart {
    StoredState state;
    std::int64_t next_snapshot = 0;
    std::int64_t rows = 0;
    double snapshot_every = 0;  // the interval the file's snapshots were taken at
};

// Read-only checks that `path` can be carried on to t_end: a run that finished
// at its t_end (not interrupted, blown up or stopped as steady), integrated by
// rk4, whose final time is a whole number of steps and lies before t_end.
// Throws a usage error naming the file and the value otherwise.
ContinuationStart check_continuation(const std::string& path, double t_end);

// Under the caller's lock: /parameters gets the new t_end and the snapshot
// interval written out (a default of t_end/10 would move with t_end), and a
// journal left from the finished run is dropped (the continued run starts its own).
void set_continuation_times(const std::string& path, double t_end, double snapshot_every);

}  // namespace xyzmf
