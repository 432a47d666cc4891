// Every parameter xyzmf stores in a file, described once: its attribute name,
// the option that sets it, its unit and its valid range. One table per kind of
// file (run_parameters() for /parameters, sweep_parameters() for /sweep)
// drives writing and reading the attributes (io/schema.hpp), validating values
// from every source (command line, config files, files read back), and
// comparing two files (merge, which must refuse shards that differ).
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <variant>
#include <vector>

namespace xyzmf {

// double (real), int64 (integer), string (text), int64 list (sides of a lattice).
using ParamValue = std::variant<double, std::int64_t, std::string, std::vector<std::int64_t>>;
enum class ParamKind { real, integer, text, sizes };

constexpr double kNoLimit = std::numeric_limits<double>::infinity();

struct ParamSpec {
    const char* key;       // attribute name in the file, e.g. "t_end"
    const char* option;    // command-line option that sets it, e.g. "--t-end"
    ParamKind kind;
    const char* unit;      // "1/gamma", "gamma", "" (shown in messages)
    double lo = -kNoLimit, hi = kNoLimit;  // valid range of a number (sizes: of each side)
    bool lo_open = false;  // true: value > lo (e.g. dt > 0); false: value >= lo
    const char* choices = nullptr;  // text: "rk4|dopri5"; nullptr = any non-empty text
    bool compared = true;  // part of what makes two results comparable (merge refuses a difference)
    bool required = true;  // false: files written before it existed may lack it (the default applies)

    // The table rows name what differs from the defaults:
    // ParamSpec{"dt", "--dt", ParamKind::real, "1/gamma", 0, kMaxTime}.lo_excluded()
    ParamSpec lo_excluded() const { ParamSpec p = *this; p.lo_open = true; return p; }
    ParamSpec one_of(const char* c) const { ParamSpec p = *this; p.choices = c; return p; }
    ParamSpec not_compared() const { ParamSpec p = *this; p.compared = false; return p; }
    ParamSpec optional() const { ParamSpec p = *this; p.required = false; return p; }
};

// Where values come from: the command line (and config files, which become
// command-line options) or a file. Decides the wording and the exit code of a
// refusal: usage (2) naming the option, or io (3) naming FILE: /group/key.
struct ParamSource {
    std::string file;   // empty = command line
    std::string group;  // "/parameters", "/sweep"
    static ParamSource command_line() { return {}; }
    std::string name(const ParamSpec& p) const;
    int exit_code() const;
};

// Throws xyzmf::Error if v has the wrong kind or lies outside p's range.
void check_value(const ParamSpec& p, const ParamValue& v, const ParamSource& src);
// "> 0", "0 to 9", "rk4|dopri5": the rule, for messages and --help.
std::string range_text(const ParamSpec& p);
std::string value_text(const ParamValue& v);
// Throws xyzmf::Error(src.exit_code()) "NAME: WHY" for rules across parameters.
[[noreturn]] void refuse(const ParamSource& src, const ParamSpec& p, const std::string& why);
[[noreturn]] void refuse(const ParamSource& src, const std::string& name, const std::string& why);

// One parameter of a Config: its description and how to get and set it.
template <class Config>
struct Param {
    ParamSpec spec;
    std::function<ParamValue(const Config&)> get;
    std::function<void(Config&, const ParamValue&)> set;
};

template <class Config>
using ParamTable = std::vector<Param<Config>>;

// The parameters of a part (e.g. the analysis options inside a sweep's
// configuration) as parameters of the whole.
// `part_of(w)` returns the part inside a whole (a generic lambda, called on
// const and non-const wholes), e.g. [](auto& c) -> auto& { return c.couplings; }.
template <class Whole, class Part, class PartOf>
void append_part(ParamTable<Whole>& whole, const ParamTable<Part>& part, PartOf part_of) {
    for (const Param<Part>& p : part)
        whole.push_back({p.spec, [get = p.get, part_of](const Whole& w) { return get(part_of(w)); },
                         [set = p.set, part_of](Whole& w, const ParamValue& v) { set(part_of(w), v); }});
}

template <class Config>
void check_all(const ParamTable<Config>& table, const Config& c, const ParamSource& src) {
    for (const Param<Config>& p : table) check_value(p.spec, p.get(c), src);
}

// The key of the first compared parameter whose values differ, with both
// values ("gamma: 1 vs 2"); empty when they all agree.
template <class Config>
std::string first_difference(const ParamTable<Config>& table, const Config& a, const Config& b) {
    for (const Param<Config>& p : table)
        if (p.spec.compared && p.get(a) != p.get(b))
            return std::string(p.spec.key) + " = " + value_text(p.get(a)) + " vs " + value_text(p.get(b));
    return {};
}

template <class Config>
const ParamSpec& find_param(const ParamTable<Config>& table, const std::string& key) {
    for (const Param<Config>& p : table)
        if (key == p.spec.key) return p.spec;
    throw std::logic_error("no parameter " + key);
}

template <class Config>
void set_param(const ParamTable<Config>& table, Config& c, const std::string& key, const ParamValue& v) {
    for (const Param<Config>& p : table)
        if (key == p.spec.key) return p.set(c, v);
    throw std::logic_error("no parameter " + key);
}

// A parameter held in a number field of Config, reached by `field`, a generic
// lambda returning a reference: [](auto& c) -> auto& { return c.numerics.dt; }.
// Reals are stored as double, integers (int, int64, uint64 fields) as int64.
template <class Config, class Field>
Param<Config> number_param(const ParamSpec& spec, Field field) {
    return {spec,
            [field](const Config& c) -> ParamValue {
                const auto v = field(c);
                if constexpr (std::is_floating_point_v<decltype(v)>) return double(v);
                else return std::int64_t(v);
            },
            [field](Config& c, const ParamValue& v) {
                auto& f = field(c);
                using T = std::decay_t<decltype(f)>;
                if constexpr (std::is_floating_point_v<T>) f = T(std::get<double>(v));
                else f = T(std::get<std::int64_t>(v));
            }};
}

// Typed access to a ParamValue (the kind was checked by check_value).
inline double as_real(const ParamValue& v) { return std::get<double>(v); }
inline std::int64_t as_int(const ParamValue& v) { return std::get<std::int64_t>(v); }
inline const std::string& as_text(const ParamValue& v) { return std::get<std::string>(v); }
inline const std::vector<std::int64_t>& as_sizes(const ParamValue& v) { return std::get<std::vector<std::int64_t>>(v); }

}  // namespace xyzmf
