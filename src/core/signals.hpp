// Stopping a command: SIGINT, SIGTERM, SIGHUP and SIGQUIT only record the
// signal; the command polls for it at safe points (between time steps, batches,
// states, before it creates a file), marks the file's status, closes it cleanly
// and exits with 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM), as
// a shell reports a process killed by that signal.
//
// The program installs the handlers at its first instruction (before main,
// src/cli/main.cpp), so a signal at any moment is handled; the Python module
// installs them for the length of each call. What stops a command is kept per
// call (StopScope): a stop requested by one call's caller (a progress callback
// that raised) does not stop a call in another thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>

namespace xyzmf {

// Installs the handlers of the four stop signals and unblocks them (a parent
// may have left them blocked). Async-signal-safe, idempotent.
void install_interrupt_handlers();

// How many times the process received `sig` (one of the four) since the
// handlers were first installed.
unsigned stop_signal_count(int sig);

// The stop state of one command call, current on the thread that made it for
// its life (scopes nest: the innermost is current).
class StopScope {
public:
    // since_process_start: every stop signal the process received counts (the
    // program); otherwise only those received from now on (a Python call).
    explicit StopScope(bool since_process_start);
    ~StopScope();
    StopScope(const StopScope&) = delete;
    StopScope& operator=(const StopScope&) = delete;

    // Stops this call as a signal would (exit code 130); `why` names it in the
    // message ("progress callback"). Safe from any thread.
    void request_stop(const char* why);
    // A stop signal since the scope began (or since the process started).
    bool signalled() const;
    bool requested() const { return requested_.load(); }

private:
    friend int interrupt_exit_code();
    friend const char* interrupt_signal_name();
    friend std::string interruption_text();
    unsigned base_;
    std::atomic<bool> requested_{false};
    const char* why_ = "stop requested";
    StopScope* outer_;
};

// The calling thread's scope (null outside any), for the worker threads a
// call starts (OpenMP): a worker inside a SharedStopScope of it stops as the
// call does (a stop its caller requested, a signal since the call began; not
// a signal an earlier call of the same Python process already handled).
StopScope* current_stop_scope();
class SharedStopScope {
public:
    explicit SharedStopScope(StopScope* scope);
    ~SharedStopScope();
    SharedStopScope(const SharedStopScope&) = delete;
    SharedStopScope& operator=(const SharedStopScope&) = delete;

private:
    StopScope* outer_;
};

// Whether the calling thread's command is to stop (without a scope: whether
// any stop signal has been received).
bool interrupt_requested();
int interrupt_exit_code();            // 128 + the signal received (130 for a requested stop)
const char* interrupt_signal_name();  // "SIGINT", "SIGTERM", ... or the reason of a requested stop
// How a stop is told, in files and messages: "interrupted (SIGTERM)" for a signal,
// "stopped by the caller (REASON)" for a stop a caller requested (a Python progress
// callback that raised).
std::string interruption_text();
// The signal that stops the calling thread's command: 0 for none, SIGINT for a
// stop its caller requested.
int interrupt_signal();
// Another process of the same MPI run received `sig` (from interrupt_signal()
// there): the program stops as if this one had, with its name and exit code.
// Nothing when this one is already stopping.
void adopt_stop_signal(int sig);
// An MPI run's processes agreed on the stop (each learnt the signal that reached
// any of them): they may all end normally. A stop not agreed (one that came
// during the setup, before the ranks compared) may leave others waiting.
void mark_stop_agreed();
bool stop_agreed();
// "SIGTERM" for SIGTERM, ... (one of the four stop signals; else "SIGINT").
const char* stop_signal_name(int sig);
// Throws Error("interrupted (SIGTERM) <context>", 128 + signal) when
// interrupt_requested().
void throw_if_interrupted(const std::string& context);

// Runs `work` on a thread of its own and waits for it, looking for a stop every
// 50 ms: for a long library call that cannot look itself (Eigen's incomplete LU
// of a ring of 12 takes a minute). On a stop it throws as throw_if_interrupted
// does at once, and the thread finishes alone with its result dropped, so
// `work` must own (or share) everything it touches. Exceptions of `work` are
// rethrown here. `tick`, if given, is called on the calling thread at each look
// (a progress line's elapsed time).
void run_stoppably(std::function<void()> work, const std::string& context, const std::function<void()>& tick = {});

}  // namespace xyzmf
