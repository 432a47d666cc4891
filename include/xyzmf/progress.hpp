// The progress line of long runs (run, sweep, quantum) on stderr. On a terminal
// it redraws one line in place; in a batch log (stderr not a terminal) it prints
// a whole line about once a minute, so that a job's log shows it is alive and
// when it will end. XYZMF_PROGRESS_EVERY=S (seconds) changes the log interval.
#pragma once

#include <chrono>
#include <string>

namespace xyzmf {

class ProgressLine {
public:
    // quiet: print nothing at all (-q).
    explicit ProgressLine(bool quiet);
    ~ProgressLine();
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    // fraction: the share of THIS call's work that is done (0..1; a resumed run
    // counts from where it resumed, so the ETA is this call's); what: the
    // state in words ("t = 12.5 (31%)"). Prints when due, or always with force.
    void update(double fraction, const std::string& what, bool force = false);
    // Ends a line drawn on a terminal (the next output starts on a new line).
    void end();

private:
    bool quiet_, tty_, drawn_ = false;
    double log_every_s_;
    std::chrono::steady_clock::time_point t0_, last_;
    bool printed_once_ = false;
};

// "1:02:03" for 3723.4 s.
std::string clock_text(double seconds);

}  // namespace xyzmf
