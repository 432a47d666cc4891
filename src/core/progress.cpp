#include "progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace xyzmf {
namespace {
thread_local ProgressListenerScope* t_listener = nullptr;
}  // namespace

ProgressListenerScope::ProgressListenerScope(ProgressListener listener)
    : listener_(std::move(listener)), outer_(t_listener) {
    t_listener = this;
}
ProgressListenerScope::~ProgressListenerScope() { t_listener = outer_; }

ProgressLine::ProgressLine(bool quiet)
    : quiet_(quiet), tty_(::isatty(2) != 0), log_every_s_(60), t0_(std::chrono::steady_clock::now()), last_(t0_), last_heard_(t0_),
      listener_(t_listener ? t_listener->listener_ : ProgressListener{}) {
    if (const char* e = std::getenv("XYZMF_PROGRESS_EVERY")) {
        char* end = nullptr;
        const double s = std::strtod(e, &end);
        if (end != e && std::isfinite(s) && s >= 0) log_every_s_ = s;
    }
}

ProgressLine::~ProgressLine() {
    if (listener_ && heard_once_ && fraction_ != heard_fraction_) {
        try {  // (never out of a destructor: the Python module's listener catches its own)
            ProgressReport r;
            r.fraction = std::clamp(fraction_, 0.0, 1.0);
            r.elapsed_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
            r.eta_s = fraction_ >= 1 ? 0.0 : NAN;
            r.what = what_;
            listener_(r);
        } catch (...) {
        }
    }
    end();
}

void ProgressLine::end() {
    if (drawn_ && tty_) std::fputc('\n', stderr);
    drawn_ = false;
}

std::string clock_text(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    const long long s = std::llround(seconds);
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", s / 3600, (s / 60) % 60, s % 60);
    return buf;
}

void ProgressLine::update(double fraction, const std::string& what, bool force) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - t0_).count();
    const double eta = fraction > 0 ? elapsed * (1 - std::min(fraction, 1.0)) / fraction : NAN;
    fraction_ = fraction;
    what_ = what;
    // The listener hears the first update at once (a callback knows the call has begun, and
    // one that stops it does so at the first record, however fast the machine), then about
    // 5 times a second, and the last.
    if (listener_ && (force || !heard_once_ || std::chrono::duration<double>(now - last_heard_).count() >= 0.2)) {
        last_heard_ = now;
        heard_once_ = true;
        ProgressReport r;
        r.fraction = std::clamp(fraction, 0.0, 1.0);
        r.elapsed_s = elapsed;
        r.eta_s = eta;
        r.what = what;
        r.last = force;
        heard_fraction_ = fraction;
        listener_(r);
    }
    if (quiet_) return;
    const double since_last = std::chrono::duration<double>(now - last_).count();
    // A terminal line is redrawn 5 times a second; a log gets a line per interval,
    // and none at all from a run shorter than one (force only closes a log that has lines).
    const double every = tty_ ? 0.2 : log_every_s_;
    if (since_last < every && (!force || (!tty_ && !printed_once_))) return;
    last_ = now;
    printed_once_ = true;
    std::fprintf(stderr, "%s  %s  elapsed %s  ETA %s%s", tty_ ? "\r" : "", what.c_str(), clock_text(elapsed).c_str(),
                 clock_text(eta).c_str(), tty_ ? "   " : "\n");
    std::fflush(stderr);
    drawn_ = true;
}

}  // namespace xyzmf
