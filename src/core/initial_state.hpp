// Initial Bloch states. Drawn on the host with Random123's
// Philox keyed by (seed, site index), using only exactly-rounded arithmetic,
// so every backend starts from bit-identical states whatever the thread count.
#pragma once

#include <array>

#include <cstdint>
#include <string>
#include <vector>

#include "host_state.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

// A generated state. spec: "random" (uniform in the unit ball), "pm-noise"
// (spin down with transverse components uniform in [-noise, noise], kept on the
// sphere) or "uniform:x,y,z". Throws xyzmf::Error naming --init. A state stored
// in a file ("FILE.h5", ...) is io's: initial_state() in init_file.hpp takes both.
HostState make_initial_state(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise);
// Sites [first, first + count) of that state (x, y, z blocks of count values each):
// each process of a spread run draws its own (the draw is keyed by the global site).
HostState make_initial_sites(const std::string& spec, const Lattice& lat, std::uint64_t seed, double noise,
                             index_t first, index_t count);
// True for the specs make_initial_state draws (random, pm-noise, uniform:x,y,z).
bool is_generated_state(const std::string& spec);

// The three numbers of uniform:x,y,z (finite; any length). Error (usage, naming
// --init) for anything else.
std::array<double, 3> uniform_state_vector(const std::string& spec);
// The Bloch vector of every spin of a pure product state: down, up, x, y, or
// uniform:x,y,z on the unit sphere (|s| = 1 to 1e-6, then renormalised: seven
// digits typed are enough). Error (usage, naming --init) for anything else.
std::array<double, 3> pure_state_direction(const std::string& spec);

// The same rule for one site, exposed for tests of reproducibility.
void random_ball_site(std::uint64_t seed, index_t site, double out[3]);

}  // namespace xyzmf
