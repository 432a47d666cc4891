// Stopping a run or sweep: SIGINT, SIGTERM, SIGHUP and SIGQUIT only raise a
// flag; the time loop polls it, marks the file's status, closes it cleanly and
// exits with 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM), as a
// shell reports a process killed by that signal.
#pragma once

namespace xyzmf {

void install_interrupt_handlers();
bool interrupt_requested();
void clear_interrupt();
// Stops the run or sweep in progress as Ctrl-C would (the Python module's
// callback raised an exception); safe from any thread.
void request_interrupt();
int interrupt_exit_code();         // 128 + the signal received (130 if none)
const char* interrupt_signal_name();  // "SIGINT", "SIGTERM", ...

}  // namespace xyzmf
