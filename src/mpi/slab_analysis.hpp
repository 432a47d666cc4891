// The analysis of one lattice spread over MPI ranks in slabs (slab.hpp), with
// no rank holding the whole state:
// - the structure factors by FFTW's MPI transform (all three components in one
//   plan): each rank's rows go to FFTW's own row blocks (which differ from the
//   slabs: FFTW gives every rank ceil(L/P) rows, the slabs balance them), and
//   |F(k)|^2 of the half spectrum comes to rank 0, which unfolds it (1D: the
//   rows are gathered and transformed on rank 0, one short line); where only
//   the radial average is stored (--sk-storage radial), no rank gathers the
//   grid: each reduces its block to what the classification reads
//   (spectrum_summary.hpp), and rank 0 merges the ranks' reductions;
// - sXY vortices: each rank counts the plaquettes based in its own rows, with
//   the phase of one row from the next rank, and rank 0 joins the lists (in
//   the serial order) and, in 3D, the lines;
// - the classification's sums and maxima (SiteTallies: |ds/dt| from each
//   rank's rows and one row of each neighbour, m_perp, <z>, the sXY phase
//   coherence), merged over the ranks, and the S(k) of the sXY phase field
//   that its domain size needs, by the same transform.
// The counts, vortex positions, residual and moving sites equal a serial
// analysis of the same state; S(k) and the sums agree to roundoff (other
// orders of addition) (tests/mpi/test_slab_analysis.cpp).
#pragma once

#include <mpi.h>

#include <memory>

#include "analysis.hpp"
#include "slab.hpp"

namespace xyzmf {

class SlabAnalysis {
public:
    // Collective over comm (plans the transform).
    SlabAnalysis(MPI_Comm comm, const Lattice& global, const Couplings& c, const AnalysisOptions& opt);
    ~SlabAnalysis();
    SlabAnalysis(const SlabAnalysis&) = delete;
    SlabAnalysis& operator=(const SlabAnalysis&) = delete;

    // Collective. owned: this rank's rows of the slab split (make_slab's
    // [begin, end)), as x, y, z blocks. Returns the whole lattice's parts on
    // rank 0, empty ones elsewhere.
    AnalysisParts compute(const HostState& owned);

private:
    struct Fft;
    MPI_Comm comm_;
    int rank_ = 0, ranks_ = 1;
    Lattice global_;
    Couplings couplings_;
    AnalysisOptions opt_;
    Slab slab_;
    std::unique_ptr<Fft> fft_;

    StructureFactor structure_factor(const HostState& owned);       // the grid, on rank 0
    StructureFactor line_structure_factor(const HostState& owned);  // 1D: the line gathered on rank 0
    std::vector<double> local_power(const HostState& owned);        // 2D, 3D: |F|^2 of my FFTW block, interleaved
    // 2D, 3D: the spectrum's summary (spectrum_summary.hpp) on rank 0, each
    // rank reducing its own block: no rank holds the grid.
    ReducedSpectrum reduced_spectrum(const HostState& owned, bool radial);
    VortexCensus vortices(std::vector<double> psi);  // psi: of my rows
    SiteTallies tallies(const HostState& owned, const std::vector<double>& psi);  // the whole lattice's, on every rank
};

}  // namespace xyzmf
