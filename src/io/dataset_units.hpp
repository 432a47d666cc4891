// Units and axis order of the datasets in xyzmf files (attributes "unit" and
// "axes" on every dataset; the table is in src/io/dataset_units.cpp and
// docs/hdf5-layout.md explains the words).
#pragma once

#include <hdf5.h>

#include <string>

namespace xyzmf {

struct DatasetMeaning {
    std::string unit;  // "gamma", "1/gamma", "sites", "rad/site", "count" or "1"
    std::string axes;  // e.g. "y,x,component(sx,sy,sz)", slowest first; "" for a scalar
    bool known = false;
};

// What the dataset at `path` (absolute, e.g. "/final/spins") of `rank` dimensions holds.
DatasetMeaning dataset_meaning(const std::string& path, int rank);
// Writes "unit" and "axes" on a newly created dataset.
void describe_dataset(hid_t dataset);

}  // namespace xyzmf
