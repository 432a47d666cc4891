// xyzmf: the program's entry point; the command line itself is run by
// run_command_line (entry.cpp), which the Python module calls too.
#include <csignal>
#include <string>
#include <vector>

#include "cli.hpp"

int main(int argc, char** argv) {
    // A file-size limit (ulimit -f) must end in "disk full" (exit 3), not in
    // the default SIGXFSZ kill.
    std::signal(SIGXFSZ, SIG_IGN);
    return xyzmf::cli::run_command_line(std::vector<std::string>(argv + 1, argv + argc), argv[0]);
}
