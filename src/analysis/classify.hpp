// Which order formed: PM, FM, AFM, SDW (wave vector, period), sXY, "domains"
// (ordered but multi-domain) or "not stationary", from the transverse
// structure factor S_perp = Sxx + Syy (physics.md section 4), with every
// number the verdict rests on. Thresholds are named options, never silent.
#pragma once

#include <complex>
#include <string>
#include <vector>

#include "xyzmf/couplings.hpp"
#include "xyzmf/site_tally.hpp"
#include "spectrum_summary.hpp"
#include "structure_factor.hpp"

namespace xyzmf {

struct ClassifyThresholds {
    double pm_m_perp = 0.02;          // PM when m_perp = sqrt(mean(x^2 + y^2)) is below this
    double single_domain = 0.9;       // ordered (not "domains") when the peak holds this share of S_perp
    double psi_coherence = 0.9;       // sXY single domain when |<exp(i psi)>| reaches this
    double stationary_residual = 1e-2;  // a site is "moving" when |ds/dt| exceeds this (gamma)
    double moving_fraction = 0.5;     // "not stationary" when more sites than this move: the whole
                                      // lattice is evolving (transient, limit cycle), not just the
                                      // domain walls and vortex cores of a coarsening state
    double vortex_amplitude = 0.02;   // plaquettes with a corner below this in-plane amplitude are skipped
                                      // (small: sXY vortex cores have reduced, not zero, amplitude)
    double ordered_domain = 2;        // a state that still moves shows no order yet ("none") while its
                                      // domain size (sites) is below this -- the order parameter's
                                      // correlation under 1/2 one site away (a random start gives ~1) --
                                      // and its peak below noise_peak_weight
};

struct Peak {
    index_t index = 0;      // k-grid index (see structure_factor.hpp)
    double k[3] = {0, 0, 0};  // signed wave vector, components in (-pi, pi]
    double weight = 0;      // share of S_perp at +-k
};

struct Classification {
    std::string phase;      // PM, FM, AFM, SDW, sXY, domains, not stationary
    std::string order;      // the order the dominant peak belongs to (FM, AFM, SDW, sXY; "none" in PM, and in
                            // a moving state with no order yet: see ClassifyThresholds::ordered_domain)
    double m_perp = 0, mean_z = 0;
    double residual = 0;    // max_n |ds_n/dt|
    double moving_fraction = 0;  // share of sites with |ds_n/dt| > stationary_residual
    double residual_trend = -1;  // median residual, last quarter / quarter before (-1 = unknown)
    Peak peak;              // dominant peak
    std::vector<Peak> peaks;  // up to four strongest, +-k merged
    double period[3] = {0, 0, 0};  // 2 pi / |k_a| in sites (0 where k_a = 0)
    double weight_k0 = 0, weight_kpi = 0;
    double correlation_length = 0;  // domain size in sites from the order-parameter correlation (classify.cpp):
                                    // ~1 uncorrelated, l for domains of side l (l/2 where neighbours are opposite), inf one domain, NaN in PM
    double psi_coherence = -1;      // |<exp(i psi)>| of the sXY phase field (-1 if not an sXY point)
    std::string reason;     // one sentence with the deciding numbers
};

// True at the sXY points of physics.md section 5: Jz = 0 and Jx Jy < 0.
bool is_sxy_point(const Couplings& c);

// The share of S_perp that the strongest +-k pair of modes of N uncorrelated spins
// exceeds with probability at most 1e-3 (classify.cpp); 1 for tiny lattices.
double noise_peak_weight(index_t sites);

// What a classification needs from the sites themselves, all of it sums and
// maxima, so that the parts of a lattice spread over processes add up to the
// whole's (src/mpi/slab_analysis.cpp).
struct SiteTallies {
    index_t sites = 0;
    double residual = 0;               // max |ds/dt|
    index_t moving = 0;                // sites with |ds/dt| > stationary_residual
    double perp2 = 0, z = 0;           // sums of x^2 + y^2 and of z
    std::complex<double> psi_sum = 0;  // sXY: the sum of exp(i psi) over the sites where psi is defined
    index_t psi_sites = 0;
    void merge(const SiteTallies& o);
};
// Sites [0, n) of s and rate = ds/dt (x, y, z blocks of n values) and of psi (n
// values, NaN where undefined; nullptr away from an sXY point).
// rate_stride: the distance of rate's y and z blocks from its x block (a
// backend's padded buffer; 0: n).
SiteTallies tally_sites(const double* s, const double* rate, index_t n, const double* psi, double stationary_residual,
                        index_t rate_stride = 0);
// The tallies of `sites` sites from the merged per-site terms (include/xyzmf/site_tally.hpp).
SiteTallies site_tallies(const TallyTerms& sum, index_t sites);
// Whether the classification needs the structure factor of the sXY phase
// field (an sXY point, ordered): its domain size comes from it.
bool needs_psi_structure(const Couplings& c, const SiteTallies& t, const ClassifyThresholds& th);
// (cos psi, sin psi, 0) as x, y, z blocks, 0 where psi is NaN: the field whose S(k) that is.
HostState psi_field(const std::vector<double>& psi);

// From the whole lattice's tallies and its S(k)'s summary; psi_marginal: the
// marginals (perp_marginals) of the S(k) of psi_field where
// needs_psi_structure, else not read.
Classification classify(const Lattice& lat, const Couplings& c, const SiteTallies& t, const SpectrumSummary& sk,
                        const std::vector<double> (&psi_marginal)[3], double residual_trend,
                        const ClassifyThresholds& th);
// The same from the state itself; rate = ds/dt of the state (host layout), for
// the stationarity verdict.
Classification classify(const Lattice& lat, const Couplings& c, const HostState& s, const StructureFactor& sf,
                        const HostState& rate, double residual_trend, const ClassifyThresholds& th);

}  // namespace xyzmf
