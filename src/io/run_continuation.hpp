// `xyzmf run --continue-from FILE --t-end T`: a finished rk4 run carried on to
// a later time from its final state, its snapshots and time series kept, so a
// coarsening study grows one file on one absolute clock.
#pragma once

#include <cstdint>
#include <string>

#include "schema.hpp"

namespace xyzmf {

// Where a continued run starts. A finished run: from its final state, with
// the snapshot index it writes next and the time-series rows it keeps. A
// stopped run (killed, interrupted): from its last complete snapshot, exactly
// as --resume does (from_final false, state.t alone read; the caller repaired
// the file first).
struct ContinuationStart {
    bool from_final = true;
    StoredState state;
    std::int64_t next_snapshot = 0;
    std::int64_t rows = 0;
    // The intervals the continued run keeps (written into /parameters): the file's,
    // or for rk4 the whole number of steps they come to on the new run's plan,
    // where an interval that lay beyond the old t_end is one no longer.
    double snapshot_every = 0, record_every = 0;
    // What the file had, where that moved them.
    double file_snapshot_every = 0, file_record_every = 0;
};

// Whether the file says its run finished (false for a file that does not open:
// a damaged one, which the caller repairs as for --resume).
bool run_file_finished(const std::string& path);

// Read-only checks that `path` can be carried on to t_end: a run that finished
// at its t_end, integrated by rk4, whose final time is a whole number of steps
// and lies before t_end; or a stopped run whose last snapshot lies before
// t_end. Refused (a usage error naming the file and the value): runs that
// blew up or stopped as stationary.
// with_spins false: the final state's spins are left unread (the ranks of an
// MPI run read their own rows).
ContinuationStart check_continuation(const std::string& path, double t_end, bool with_spins = true);

// Under the caller's lock: /parameters gets the new t_end and the record and
// snapshot intervals written out (a default of t_end/10 would move with t_end); a
// finished run's leftover journal is dropped (the continued run starts its own).
void set_continuation_times(const std::string& path, const ContinuationStart& from, double t_end);

}  // namespace xyzmf
