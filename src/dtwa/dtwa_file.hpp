// The /dtwa group of an xyzmf file (docs/hdf5-layout.md): the parameters as
// attributes, every batch's sums allocated once and overwritten as batches
// finish, with a per-batch commit mark (`done`, written last), and the summary
// over the finished batches (means, standard errors, S(k)).
#pragma once

#include <string>

#include "dtwa.hpp"
#include "hdf5.hpp"

namespace xyzmf {

void create_dtwa_group(hid_t file, const DtwaConfig& c, const DtwaResults& r);
// Overwrites the batch sums and the summary; the commit marks last.
void write_dtwa_results(hid_t file, const std::string& path, const DtwaConfig& c, const DtwaResults& r);
// The parameters back, every value checked; refuses a file without /dtwa.
DtwaConfig read_dtwa_config(hid_t file, const std::string& path);
// The batch sums back; a batch marked done must hold finite sums that a set of
// trajectories can have (|s_a| <= sqrt 3 on every site), or the file is refused.
DtwaResults read_dtwa_results(hid_t file, const std::string& path, const DtwaConfig& c);

}  // namespace xyzmf
