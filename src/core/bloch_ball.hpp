// The one rule for "is this a set of Bloch vectors": every |s| <= 1 + norm_tol,
// NaN and overflow failing it. The time loops (blow-up), the sweep (which copy blew
// up), stored states (--init, --resume) and the Python analysis all apply it.
#pragma once

#include <cmath>

#include "xyzmf/lattice.hpp"

namespace xyzmf {

// |s|^2 <= (1 + norm_tol)^2; false for NaN and infinity.
inline bool in_bloch_ball(double s2, double norm_tol) {
    const double limit = 1 + norm_tol;
    return s2 <= limit * limit;
}

// The larger of m and |s|^2 = s2, NaN and overflow counted as infinity.
inline double max_with_norm2(double m, double s2) { return s2 <= m ? m : (s2 <= 1e300 ? s2 : HUGE_VAL); }

// The largest |s|^2 over sites [first, last) of a host state stored as component
// blocks `stride` apart (x, y, z), NaN and overflow counted as infinity.
template <class Real>
double max_norm2(const Real* s, index_t stride, index_t first, index_t last) {
    double m = 0;
    for (index_t e = first; e < last; ++e)
        m = max_with_norm2(m, double(s[e]) * s[e] + double(s[stride + e]) * s[stride + e] +
                                  double(s[2 * stride + e]) * s[2 * stride + e]);
    return m;
}

// The same of n sites stored (x, y, z) per site, as files hold them.
template <class Real>
double max_norm2_interleaved(const Real* s, index_t n) {
    double m = 0;
    for (index_t e = 0; e < n; ++e)
        m = max_with_norm2(m, double(s[3 * e]) * s[3 * e] + double(s[3 * e + 1]) * s[3 * e + 1] +
                                  double(s[3 * e + 2]) * s[3 * e + 2]);
    return m;
}

}  // namespace xyzmf
