// sXY vortex defects, exactly as physics.md section 5 defines them: the
// winding of the sXY phase field psi around every elementary plaquette
//   psi_n = atan2(y_n, x_n)          on A sites (i + j + k even)
//   psi_n = atan2(Jx x_n, -Jy y_n)   on B sites (the direction of M s_n)
// (NOT the plain spin angle, which winds almost everywhere in sXY).
// Plaquettes with a corner whose in-plane amplitude is below min_amplitude
// are skipped and counted separately.
#pragma once

#include <cstdint>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "host_state.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

struct Vortex {
    double pos[3];    // plaquette centre, in lattice units (e.g. (i + 1/2, j + 1/2, k))
    int normal;       // plaquette normal: 0 = x (yz plaquette), 1 = y (zx), 2 = z (xy)
    int charge;       // winding number w (+1 vortex, -1 antivortex; |w| = 2 is possible)
};

struct VortexCensus {
    std::int64_t vortices = 0;      // plaquettes with w > 0 (counted with multiplicity |w|)
    std::int64_t antivortices = 0;  // plaquettes with w < 0
    std::int64_t skipped = 0;       // plaquettes with a corner below min_amplitude
    std::int64_t plaquettes = 0;    // plaquettes examined (including skipped)
    std::vector<Vortex> list;
    // 3D only: pierced plaquettes (= total line length in lattice units) and
    // connected vortex lines (pierced plaquettes joined through shared cubes).
    std::int64_t pierced = 0;
    std::int64_t lines = 0;
};

// Requires dim >= 2 and Jx Jy != 0 (else psi is undefined on B); throws xyzmf::Error.
VortexCensus find_vortices(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude);

// The sXY phase field psi of every site (NaN where the in-plane amplitude is below min_amplitude).
std::vector<double> sxy_phase_field(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude);
// The same into psi, reusing its capacity (state after state of a series).
void fill_sxy_phase_field(const Lattice& lat, const Couplings& c, const HostState& s, double min_amplitude,
                          std::vector<double>& psi);
// find_vortices from that field, when it is at hand anyway (Analyzer also
// tallies it): psi is used and left as it was (its capacity lends a row).
VortexCensus census_of_phase(const Lattice& lat, std::vector<double>& psi);

// The same census in parts, for a lattice spread over processes in slabs of its
// slowest axis (src/mpi/): find_vortices is these three on the whole lattice.
// psi of `rows` rows of the slowest axis from global row `first` on (periodic),
// from their spins (x, y, z blocks of rows x row-sites values); any dimension,
// as sxy_phase_field.
std::vector<double> sxy_phase_rows(const Lattice& lat, const Couplings& c, const HostState& rows_state, index_t first,
                                   index_t rows, double min_amplitude);
// The plaquettes based in rows [first, first + rows), from psi of those rows
// and of the one after them (rows + 1 rows); list in the order (normal, site).
// 3D lines are not joined here.
VortexCensus count_plaquettes(const Lattice& lat, const double* psi, index_t first, index_t rows);
// The census from the windings of single plaquettes (a device analysis's
// result: include/xyzmf/device_analysis.hpp): `wound` holds the numbers
// (include/xyzmf/sxy_winding.hpp) of the plaquettes that wind, ascending,
// `winding` their windings; 3D lines joined. Equals find_vortices when the
// windings are those of its phase field.
VortexCensus census_from_windings(const Lattice& lat, std::int64_t plaquettes, std::int64_t skipped,
                                  const std::vector<std::int64_t>& wound, const std::vector<int>& winding);
// 3D: v.pierced and v.lines from v.list (pierced faces joined through the cubes they share).
void join_vortex_lines(const Lattice& lat, VortexCensus& v);

}  // namespace xyzmf
