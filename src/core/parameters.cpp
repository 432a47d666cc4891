// Checking one parameter value against its description (parameters.hpp).
#include "parameters.hpp"

#include <cmath>
#include <sstream>

#include "xyzmf/error.hpp"

namespace xyzmf {
namespace {

std::string num(double v) {
    std::ostringstream s;
    s.precision(10);
    s << v;
    return s.str();
}

bool in_range(const ParamSpec& p, double v) {
    if (!std::isfinite(v)) return false;
    return (p.lo_open ? v > p.lo : v >= p.lo) && v <= p.hi;
}

bool is_choice(const ParamSpec& p, const std::string& v) {
    if (!p.choices) return !v.empty();
    std::stringstream all(p.choices);
    for (std::string c; std::getline(all, c, '|');)
        if (c == v) return true;
    return false;
}

const char* kind_name(ParamKind k) {
    switch (k) {
        case ParamKind::real: return "a number";
        case ParamKind::integer: return "an integer";
        case ParamKind::text: return "a string";
        case ParamKind::sizes: return "a list of 1 to 3 integers";
    }
    return "?";
}

}  // namespace

std::string ParamSource::name(const ParamSpec& p) const {
    return file.empty() ? std::string(p.option) : file + ": " + group + "/" + p.key;
}

int ParamSource::exit_code() const { return file.empty() ? exit_code::usage : exit_code::io; }

void refuse(const ParamSource& src, const ParamSpec& p, const std::string& why) { refuse(src, src.name(p), why); }

void refuse(const ParamSource& src, const std::string& name, const std::string& why) {
    throw Error(name + ": " + why, src.exit_code());
}

std::string range_text(const ParamSpec& p) {
    if (p.kind == ParamKind::text) return p.choices ? std::string("one of ") + p.choices : "not empty";
    const std::string unit = *p.unit ? std::string(" ") + p.unit : "";
    // Integer limits as integers (the seed's 2^63 - 1 is not 9.223372037e+18).
    auto num = [&p](double v) {
        if (p.kind == ParamKind::real || v != std::floor(v)) return xyzmf::num(v);
        return v >= 9223372036854775807.0 ? std::string("9223372036854775807") : std::to_string(std::int64_t(v));
    };
    const bool has_lo = std::isfinite(p.lo), has_hi = std::isfinite(p.hi);
    const std::string what = p.kind == ParamKind::real ? "a finite number" : "an integer";
    if (has_lo && has_hi) return (p.lo_open ? "> " + num(p.lo) + " and <= " : num(p.lo) + " to ") + num(p.hi) + unit;
    if (has_lo) return (p.lo_open ? "> " : ">= ") + num(p.lo) + unit;
    if (has_hi) return "<= " + num(p.hi) + unit;
    return what;
}

std::string value_text(const ParamValue& v) {
    if (auto d = std::get_if<double>(&v)) return num(*d);
    if (auto i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
    if (auto s = std::get_if<std::string>(&v)) return "'" + *s + "'";
    std::string out;
    for (std::int64_t x : std::get<std::vector<std::int64_t>>(v)) out += (out.empty() ? "" : "x") + std::to_string(x);
    return out;
}

void check_value(const ParamSpec& p, const ParamValue& v, const ParamSource& src) {
    const std::size_t want = p.kind == ParamKind::real ? 0 : p.kind == ParamKind::integer ? 1
                                                      : p.kind == ParamKind::text         ? 2
                                                                                          : 3;
    if (v.index() != want) refuse(src, p, std::string("must be ") + kind_name(p.kind));
    bool ok = true;
    switch (p.kind) {
        case ParamKind::real: ok = in_range(p, as_real(v)); break;
        case ParamKind::integer: ok = in_range(p, double(as_int(v))); break;
        case ParamKind::text: ok = is_choice(p, as_text(v)); break;
        case ParamKind::sizes:
            ok = !as_sizes(v).empty() && as_sizes(v).size() <= 3;
            for (std::int64_t s : as_sizes(v)) ok = ok && in_range(p, double(s));
            break;
    }
    if (!ok) refuse(src, p, "must be " + range_text(p) + " (got " + value_text(v) + ")");
}

}  // namespace xyzmf
