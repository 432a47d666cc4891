// Subcommands of the xyzmf program. Each add_*_command registers its options
// on the CLI11 app and returns the action to run once parsing succeeded.
#pragma once

#include <functional>
#include <string>
#include <vector>

// CLI11 (10 s of compiling a file) only where options are declared: main.cpp and the
// Python module need run_command_line alone.
namespace CLI {
class App;
}

namespace xyzmf::cli {

struct Command {
    CLI::App* app;
    std::function<int()> run;
};

Command add_run_command(CLI::App& app, const std::string& command_line);
Command add_bench_command(CLI::App& app);
Command add_analyze_command(CLI::App& app, const std::string& command_line);
Command add_stability_command(CLI::App& app, const std::string& command_line);
Command add_gaussian_command(CLI::App& app, const std::string& command_line);
Command add_quantum_command(CLI::App& app, const std::string& command_line);
Command add_dtwa_command(CLI::App& app, const std::string& command_line);
Command add_sweep_command(CLI::App& app, const std::string& command_line);
Command add_merge_command(CLI::App& app, const std::string& command_line);
Command add_export_command(CLI::App& app, const std::string& command_line);
Command add_repair_command(CLI::App& app, const std::string& command_line);

// Where run_command_line puts what the program would print: the one-line
// refusal (without the "xyzmf: error: " prefix) and the --help/--version text.
// A command's own report still goes to stdout and its progress line to stderr.
struct CommandOutput {
    std::string error, text;
};

// Runs one xyzmf command line (arguments without the program name; `program` is
// prepended to the command line that files record) and returns its exit code
// (xyzmf/error.hpp). Without `output`, refusals and help go to stderr/stdout as
// the program prints them.
int run_command_line(const std::vector<std::string>& arguments, const std::string& program = "xyzmf",
                     CommandOutput* output = nullptr);

// The options of one command as its --help lists them, for the Python module's
// signatures and docstrings (so they cannot drift from the program's): the long
// name without dashes, the default as --help shows it ("" for none), the help
// text, and whether it is a flag. Empty for an unknown command.
struct OptionInfo {
    std::string name, default_text, description;
    bool flag = false;
};
std::vector<OptionInfo> command_options(const std::string& command);
// The program's commands, as `xyzmf --help` lists them.
std::vector<std::string> command_names();

// Replaces `--config FILE` in args (program name excluded) by the options the
// file sets for the command that args name, unless the command line sets them
// too (under any of their names). A key that is no option of that command is an
// error naming the file and the key; path_read: the file's name, if one was
// given. Throws xyzmf::Error.
std::vector<std::string> expand_config_file(std::vector<std::string> args, const CLI::App& app,
                                            std::string* path_read = nullptr);
// Registers --config on a command, for its --help.
void add_config_option(CLI::App* sub);

}  // namespace xyzmf::cli
