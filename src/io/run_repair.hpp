// Recovery of run files that a kill damaged (run_journal.hpp): the check that
// --resume makes, the rebuild from a journal, and the salvage of what a file
// without one still holds (`xyzmf repair`).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "run_journal.hpp"

namespace xyzmf {

// The journal beside path if it is path's own (recorded for the same device
// and inode: a copied file, or an old journal of a replaced one, does not count).
std::optional<JournalContents> journal_of(const std::string& path);

// Whether the run file at path reads completely (every object HDF5 can visit,
// /parameters, /timeseries, every snapshot group) and holds every snapshot
// and time-series row its journal has recorded. `why` says what is wrong.
bool run_file_sound(const std::string& path, const JournalContents* journal, std::string* why);

struct RepairReport {
    std::int64_t snapshots = 0, rows = 0;  // complete snapshots and time-series rows in the new file
    double last_t = -1;                    // t of its last snapshot
    std::vector<std::string> lost;         // what could not be recovered, in words
    std::string damaged_copy;              // where the damaged file was kept (in-place repair)
    bool from_journal = false;
};

// Rebuilds the run file at path from its journal and the snapshot data still
// in it into out. In place (out == path) the damaged file is kept as
// path + ".damaged" (replacing an older one). The caller holds the lock.
RepairReport rebuild_from_journal(const std::string& path, const JournalContents& j, const std::string& out);

// A file without a journal: copies every group, dataset and attribute of path
// that still reads into out (in place: path + ".damaged" keeps the original);
// what does not read is listed in the report. The caller holds the lock.
RepairReport salvage(const std::string& path, const std::string& out);

// Why a file that exists and opens is no run file of xyzmf (its root holds no
// schema = "xyzmf", or says it holds something else): nothing to repair or
// resume in it. Empty when it may be one (damaged files included).
std::string not_a_run_file(const std::string& path);

// The image of a run file that holds src's root attributes and /parameters and
// empty /timeseries tables and /snapshots group: a journal's base.
std::vector<unsigned char> run_base_image(hid_t src);

// Copies every attribute of src that reads to dst (replacing those dst has),
// except the names in `skip`; returns the names that did not read.
std::vector<std::string> copy_attributes(hid_t src, hid_t dst, const std::vector<std::string>& skip = {});

}  // namespace xyzmf
