// What the classification reads from each site (src/analysis/classify.hpp,
// SiteTallies), written once for the host analysis and the device analysis
// (kernels/analysis_kernels.cu): sums and maxima only, so that blocks of
// sites, threads or processes merge into the whole lattice's.
#pragma once

#include <cmath>

#include "xyzmf/hd.hpp"
#include "xyzmf/lattice.hpp"

namespace xyzmf {

struct TallyTerms {
    double residual = 0;            // max |ds/dt|
    index_t moving = 0;             // sites with |ds/dt| above the threshold
    double perp2 = 0, z = 0;        // sums of x^2 + y^2 and of z
    double psi_re = 0, psi_im = 0;  // sum of exp(i psi) where psi is defined (sXY points)
    index_t psi_sites = 0;

    XYZMF_HD void merge(const TallyTerms& o) {
        residual = residual > o.residual ? residual : o.residual;
        moving += o.moving;
        perp2 += o.perp2;
        z += o.z;
        psi_re += o.psi_re;
        psi_im += o.psi_im;
        psi_sites += o.psi_sites;
    }
};

// One site: spin (x, y, z), its rate ds/dt (rx, ry, rz), its sXY phase psi
// (NaN where undefined; pass NaN away from an sXY point).
XYZMF_HD TallyTerms tally_site(double x, double y, double z, double rx, double ry, double rz, double psi,
                               double stationary_residual) {
    using std::cos;
    using std::isnan;
    using std::sin;
    using std::sqrt;
    TallyTerms t;
    t.residual = sqrt(rx * rx + ry * ry + rz * rz);
    t.moving = t.residual > stationary_residual;
    t.perp2 = x * x + y * y;
    t.z = z;
    if (!isnan(psi)) {
        t.psi_re = cos(psi);
        t.psi_im = sin(psi);
        t.psi_sites = 1;
    }
    return t;
}

}  // namespace xyzmf
