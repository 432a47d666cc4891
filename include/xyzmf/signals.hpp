// Ctrl-C handling: SIGINT/SIGTERM only raise a flag; the time loop polls it,
// closes the output file cleanly and exits with code 130.
#pragma once

namespace xyzmf {

void install_interrupt_handlers();
bool interrupt_requested();
void clear_interrupt();

}  // namespace xyzmf
