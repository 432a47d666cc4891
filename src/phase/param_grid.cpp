// Parameter grids for stability maps and sweeps (see param_grid.hpp).
#include "param_grid.hpp"

#include <cmath>
#include <sstream>

#include "xyzmf/error.hpp"
#include "run_config.hpp"

namespace xyzmf {
namespace {
void set(Couplings& c, const std::string& name, double v) {
    if (name == "Jx") c.Jx = v;
    else if (name == "Jy") c.Jy = v;
    else if (name == "Jz") c.Jz = v;
    else c.gamma_phi = v;
}
}  // namespace

std::vector<double> GridAxis::values() const {
    std::vector<double> v;
    for (int i = 0; i < n; ++i) v.push_back(value(i));
    return v;
}

GridAxis parse_axis(const std::string& text, const std::string& option) {
    GridAxis a;
    std::stringstream in(text);
    std::string lo, hi, n;
    if (!std::getline(in, a.name, ':') || !std::getline(in, lo, ':') || !std::getline(in, hi, ':') ||
        !std::getline(in, n) )
        throw Error(option + ": expected PARAM:MIN:MAX:N, e.g. Jx:-6:6:41 (got '" + text + "')", exit_code::usage);
    if (a.name != "Jx" && a.name != "Jy" && a.name != "Jz" && a.name != "gamma_phi" && a.name != "gamma-phi")
        throw Error(option + ": PARAM must be Jx, Jy, Jz or gamma_phi (got '" + a.name + "')", exit_code::usage);
    if (a.name == "gamma-phi") a.name = "gamma_phi";
    try {
        std::size_t used = 0;
        a.lo = std::stod(lo, &used);
        if (used != lo.size()) throw std::invalid_argument("lo");
        a.hi = std::stod(hi, &used);
        if (used != hi.size()) throw std::invalid_argument("hi");
        a.n = std::stoi(n, &used);
        if (used != n.size()) throw std::invalid_argument("n");
    } catch (const std::exception&) {
        throw Error(option + ": expected PARAM:MIN:MAX:N with numbers (got '" + text + "')", exit_code::usage);
    }
    if (!std::isfinite(a.lo) || !std::isfinite(a.hi) || a.n < 1 || a.n > 100000 || (a.n > 1 && !(a.hi > a.lo)))
        throw Error(option + ": need finite MIN < MAX and 1 <= N <= 100000 (got '" + text + "')", exit_code::usage);
    if (a.n == 1 && a.hi != a.lo)  // (one value: which end was meant?)
        throw Error(option + ": N = 1 is one value; give it as MIN and MAX alike, e.g. " + a.name + ":" + lo + ":" + lo +
                        ":1 (got '" + text + "')",
                    exit_code::usage);
    if (a.name == "gamma_phi" && a.lo < 0) throw Error(option + ": gamma_phi must be >= 0", exit_code::usage);
    // An axis runs over the values its parameter may take (as --Jx does).
    if (std::fabs(a.lo) > kMaxCoupling || std::fabs(a.hi) > kMaxCoupling)
        throw Error(option + ": " + a.name + " is limited to " + (a.name == "gamma_phi" ? "0" : "-1e+06") +
                        " .. 1e+06 (units of gamma), as its option is (got '" + text + "')",
                    exit_code::usage);
    return a;
}

Couplings ParamGrid::at(int p) const {
    Couplings c = fixed;
    set(c, x.name, x.value(p % x.n));
    set(c, y.name, y.value(p / x.n));
    return c;
}

}  // namespace xyzmf
