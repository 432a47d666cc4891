// --init from a stored state: "FILE.h5" (its final state, else its last
// snapshot), "FILE.h5:/snapshots/N" (snapshot N, 0 = the first) or
// "FILE.h5:/final". The file half of --init (the generated states are core's,
// initial_state.hpp).
#pragma once

#include <cstdint>
#include <string>

#include "host_state.hpp"
#include "schema.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

// Any --init spec: a file's state (sizes must match lat) or a generated one
// (make_initial_state). Throws xyzmf::Error naming --init.
HostState initial_state(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise);

// The state a file spec names, checked against the run's lattice (Error naming
// --init); with_spins false: all but its spins (read_state_sites reads them).
StoredState init_file_state(const std::string& spec, const Lattice& lat, bool with_spins);

// A file spec split into the file and the state's group ("" = final, else last
// snapshot); false when spec names no file. A malformed group is an error.
bool init_file_spec(const std::string& spec, std::string& file, std::string& group);
// The lattice of the state a file spec names (read from the file's parameters).
Lattice init_file_lattice(const std::string& spec);

}  // namespace xyzmf
