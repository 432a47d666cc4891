// Reading and writing the /quantum group of an xyzmf file (docs/hdf5-layout.md).
#pragma once

#include <string>

#include "hdf5.hpp"
#include "quantum.hpp"

namespace xyzmf {

std::int64_t sample_count(const QuantumConfig& c);  // samples at 0, sample_dt, ... <= t_end
// Parameters, and for trajectories every per-trajectory dataset (NaN, batch -1).
void create_quantum_group(hid_t file, const QuantumConfig& c);
// Overwrites the per-trajectory data and the summary; the commit marks last.
void write_trajectory_results(hid_t file, const std::string& path, const QuantumConfig& c, const TrajectoryResults& r);
// The parameters back, every value checked; refuses a file without /quantum.
QuantumConfig read_quantum_config(hid_t file, const std::string& path);
TrajectoryResults read_trajectory_results(hid_t file, const std::string& path, const QuantumConfig& c);
void write_exact_results(hid_t file, const QuantumConfig& c, const ExactResults& r);

}  // namespace xyzmf
