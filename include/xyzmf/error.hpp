// The project's one exception type. Everything the user can get wrong (bad
// options, foreign files, blow-ups) is thrown as xyzmf::Error with a one-line
// message and caught once in main(), which prints it and exits non-zero.
#pragma once

#include <stdexcept>
#include <string>

namespace xyzmf {

class Error : public std::runtime_error {
public:
    explicit Error(const std::string& what, int exit_code = 1)
        : std::runtime_error(what), exit_code_(exit_code) {}
    int exit_code() const { return exit_code_; }

private:
    int exit_code_;
};

// Exit codes, so scripts can tell a bad option from a numerical blow-up.
namespace exit_code {
constexpr int usage = 2;        // invalid option or parameter
constexpr int io = 3;           // unreadable, foreign or existing file
constexpr int blow_up = 4;      // NaN/Inf or |s| > 1 + tol during the run (dtwa: |s|^2 > 6)
constexpr int interrupted = 130;  // SIGINT, as shells report it (SIGTERM 143, SIGHUP 129, SIGQUIT 131)
}  // namespace exit_code

}  // namespace xyzmf
