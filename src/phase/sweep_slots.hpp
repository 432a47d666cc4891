// The lattices of a sweep stepped as one batch of slots (Lattice::copies) in
// which each lattice runs on its own clock: it stops when it is stationary
// (checked every 1/gamma), reaches t_end or blows up, and its slot takes the
// next lattice at once. A map's points settle at very different times (deep
// in a phase within a few 1/gamma, near a boundary not before t_end); a batch
// that waited for its slowest lattice spent most of its steps on lattices
// already done, and its results depended on which points shared a batch.
// Here each lattice's result is the one it has alone, bit for bit, whatever
// the slot count, the order, the backend's thread count or the backend.
#pragma once

#include <cstdint>
#include <functional>
#include <utility>
#include <vector>

#include "host_state.hpp"
#include "run_config.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/couplings.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

// How one lattice ended.
struct SlotOutcome {
    HostState state;         // its final state (x, y, z blocks of one lattice); empty after a blow-up
    double t_final = 0;      // its own time when it stopped (1/gamma)
    double blow_up_t = NAN;  // the time of its last good check, where it blew up (else NaN)
    std::int64_t steps = 0;  // steps it took
};

// The lattices that ended at one step, in slot order: (lattice, how it ended).
using SlotEndings = std::vector<std::pair<std::int64_t, SlotOutcome>>;

// Lattices 0 .. count-1 of shape `one` (copies = 1), lattice i with couplings
// couplings_of(i) from start_of(i), through `slots` slots. finished(endings) is
// called once for each step where lattices end, with all of them (so that the
// caller can analyse them side by side), in the order they ended, but only
// once the passes up to the next check are under way (their slots are
// refilled by then; on a GPU the host analyses while the device steps); every
// lattice ends exactly once, and what has ended is handed over before a stop
// signal is thrown. Refilling needs every lattice's checks
// and its end on whole multiples of the check interval with no shortened last
// step; a plan without that runs the lattices in groups of `slots`, each still
// stopping on its own. Polls for a stop signal between passes, right after
// calling between_passes (if given) on the calling thread.
void run_in_slots(const Lattice& one, std::int64_t slots, std::int64_t count,
                  const std::function<Couplings(std::int64_t)>& couplings_of,
                  const std::function<HostState(std::int64_t)>& start_of, const FixedStepNumerics& num,
                  Precision precision, BackendKind kind,
                  const std::function<void(SlotEndings&)>& finished,
                  const std::function<void()>& between_passes = {});

}  // namespace xyzmf
