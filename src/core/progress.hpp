// The progress line of long runs (run, sweep, quantum) on stderr. On a terminal
// it redraws one line in place; in a batch log (stderr not a terminal) it prints
// a whole line about once a minute, so that a job's log shows it is alive and
// when it will end. XYZMF_PROGRESS_EVERY=S (seconds) changes the log interval.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace xyzmf {

// What a progress listener receives: the share of this call's work done
// (0..1), the state in words, and elapsed and remaining wall time in seconds
// (the ETA is NaN until something is done). `last` marks the final report.
struct ProgressReport {
    double fraction = 0, elapsed_s = 0, eta_s = 0;
    std::string what;
    bool last = false;
};
using ProgressListener = std::function<void(const ProgressReport&)>;

// The listener of the ProgressLines of one thread (the Python module's progress
// callback of one call), for the life of the object: it hears every progress
// line of the command that thread runs, quiet or not: its first update at once,
// then about 5 times a second, and the last (the end of a run or sweep), from
// whichever thread updates the line (a ProgressLine keeps the listener of the
// thread that made it). Calls in other threads have their own. A line that
// goes with progress its listener has not heard (updates come faster than 5 a
// second) tells it the latest fraction then, so the last report a call's
// listener hears is where the work ended.
class ProgressListenerScope {
public:
    explicit ProgressListenerScope(ProgressListener listener);
    ~ProgressListenerScope();
    ProgressListenerScope(const ProgressListenerScope&) = delete;
    ProgressListenerScope& operator=(const ProgressListenerScope&) = delete;

private:
    ProgressListener listener_;
    ProgressListenerScope* outer_;
    friend class ProgressLine;
};

class ProgressLine {
public:
    // quiet: print nothing at all (-q).
    explicit ProgressLine(bool quiet);
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // Not thread-safe: worker threads update it one at a time (a critical section).
    // fraction: the share of THIS call's work that is done (0..1; a resumed run
    // counts from where it resumed, so the ETA is this call's); what: the
    // state in words ("t = 12.5 (31%)"). Prints when due, or always with force.
    void update(double fraction, const std::string& what, bool force = false);
    // Ends a line drawn on a terminal (the next output starts on a new line).
    void end();

private:
    bool quiet_, tty_, drawn_ = false;
    double log_every_s_;
    std::chrono::steady_clock::time_point t0_, last_, last_heard_;
    bool printed_once_ = false, heard_once_ = false;
    double fraction_ = 0, heard_fraction_ = -1;  // the latest update's, and the latest the listener heard
    std::string what_;
    ProgressListener listener_;  // the making thread's (empty: none)
};

// "1:02:03" for 3723.4 s.
std::string clock_text(double seconds);

}  // namespace xyzmf
