// Initial Bloch states (issue #2 item 5). Drawn on the host with Random123's
// Philox keyed by (seed, site index), using only exactly-rounded arithmetic,
// so every backend starts from bit-identical states whatever the thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "xyzmf/lattice.hpp"

namespace xyzmf {

// A state on the host: 3N doubles, the x block, then y, then z (site n = i + Lx (j + Ly k)).
using HostState = std::vector<double>;

// spec: "random" (uniform in the unit ball), "pm-noise" (spin down with
// transverse components uniform in [-noise, noise], kept on the sphere),
// "uniform:x,y,z", or an xyzmf HDF5 file: "FILE.h5" (its final state, else its
// last snapshot), "FILE.h5:/snapshots/N" (snapshot N, 0 = the first) or
// "FILE.h5:/final"; sizes must match. Throws xyzmf::Error naming --init.
HostState make_initial_state(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise);

// A file spec split into the file and the state's group ("" = final, else last
// snapshot); false when spec names no file. A malformed group is an error.
bool init_file_spec(const std::string& spec, std::string& file, std::string& group);
// The lattice of the state a file spec names (read from the file's parameters).
Lattice init_file_lattice(const std::string& spec);

// The same rule for one site, exposed for tests of reproducibility.
void random_ball_site(std::uint64_t seed, index_t site, double out[3]);

}  // namespace xyzmf
