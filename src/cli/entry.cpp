// One xyzmf command line, parsed (CLI11) and run: the program's main() and the
// Python module both come here, so that they share every default, check and
// message. Every error ends here as ONE line and a non-zero exit code.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <vector>

#include <CLI/CLI.hpp>
#include <omp.h>

#include "cli.hpp"
#include "mpi_session.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"
#include "signals.hpp"
#include "subnormals.hpp"
#include "xyzmf/backend.hpp"
#include "xyzmf/version.hpp"

namespace {
// Every refusal is one printable line, whatever the message quotes (file
// names, config file contents).
std::string one_line(std::string s) {
    // A message quotes what it was given (a file name, a value): never at any length.
    constexpr std::size_t kMax = 2000;
    if (s.size() > kMax) s = s.substr(0, kMax) + "... (" + std::to_string(s.size() - kMax) + " more characters)";
    for (char& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    return s;
}
// CLI11 lists unexpected arguments in the order it consumed them, which is
// back to front (main hands it the arguments reversed): put them back.
std::string extras_in_order(const std::string& what) {
    const std::string head = "The following arguments were not expected: ";
    if (what.rfind(head, 0) != 0) return what;
    std::vector<std::string> words;
    std::istringstream in(what.substr(head.size()));
    for (std::string w; in >> w;) words.push_back(w);
    std::string out = "unexpected argument(s):";
    for (auto it = words.rbegin(); it != words.rend(); ++it) out += " " + *it;
    return out;
}
using xyzmf::cli::nearest_name;
// "--tend" -> " (did you mean --t-end?)": the command's long option nearest to a
// mistyped one (nearest_name); "" when none is near.
std::string suggestion(const std::string& extras, const CLI::App& app) {
    std::vector<std::string> names;
    for (const CLI::App* sub : app.get_subcommands())
        for (const CLI::Option* opt : sub->get_options())
            for (const std::string& n : opt->get_lnames()) names.push_back(n);
    std::string out;
    std::istringstream in(extras);
    for (std::string w; in >> w;) {
        if (w.rfind("--", 0) != 0 || w.size() < 3) continue;
        const std::string best =
            nearest_name(names, w.substr(2, w.find('=') == std::string::npos ? std::string::npos : w.find('=') - 2));
        if (!best.empty()) out += (out.empty() ? " (did you mean --" : ", --") + best;
    }
    return out.empty() ? out : out + "?)";
}

// One argument as a shell reads it back: as it is when it holds only characters
// no shell treats specially, else in single quotes (a value from a config file
// may hold spaces).
std::string shell_word(const std::string& a) {
    const bool plain = !a.empty() && a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                         "0123456789_./:=,+-@%^") == std::string::npos;
    if (plain) return a;
    std::string q = "'";
    for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

// CLI11's words for a value of the wrong type or a repeated option, in the
// program's form "OPTION: what is wrong (got VALUE)":
//   "Could not convert: --Jx = foo"         -> "--Jx: expected a number (got 'foo')"
//   "--Jx: At Most 1 required but received 2" -> "--Jx: given 2 times; give it once"
//   "--threads: Value x not in range 1 to 4096" -> "--threads: must be 1 to 4096 (got 'x')"
//   "--backend: gpu not in {auto,cpu,cuda}"    -> "--backend: must be one of auto | cpu | cuda (got 'gpu')"
//   "--dt: 1 required FLOAT missing"           -> "--dt: needs a value (a number)"
std::string plain_parse_error(const std::string& what, const CLI::App& app) {
    std::smatch m;
    static const std::regex convert("Could not convert: (--[A-Za-z0-9_-]+) = (.*)");
    static const std::regex repeated("(--[A-Za-z0-9_-]+): At Most 1 required but received ([0-9]+)");
    static const std::regex missing("(--[A-Za-z0-9_-]+): [0-9]+ required ([A-Z]*)(.*) missing");
    if (std::regex_match(what, m, missing)) {
        const std::string type = m[2].str();
        return m[1].str() + ": needs a value" +
               (type == "UINT" ? " (an integer >= 0)" : type == "INT" ? " (an integer)" : type == "FLOAT" ? " (a number)" : "");
    }
    if (std::regex_match(what, m, convert)) {
        std::string type;
        for (const CLI::App* sub : app.get_subcommands())
            for (const CLI::Option* opt : sub->get_options())
                if (sub->parsed() && opt->check_lname(m[1].str().substr(2))) type = opt->get_type_name();
        const std::string expected = type.rfind("UINT", 0) == 0  ? "an integer >= 0"
                                     : type.rfind("INT", 0) == 0 ? "an integer"
                                     : type.rfind("FLOAT", 0) == 0 ? "a number"
                                                                   : "a value of another form";
        return m[1].str() + ": expected " + expected + " (got '" + m[2].str() + "')";
    }
    if (std::regex_match(what, m, repeated)) return m[1].str() + ": given " + m[2].str() + " times; give it once";
    static const std::regex range("(--[A-Za-z0-9_-]+): Value (.*) not in range (.*) to (.*)");
    static const std::regex member("(--[A-Za-z0-9_-]+): (.*) not in \\{(.*)\\}");
    if (std::regex_match(what, m, range)) {
        // CLI11 prints the bounds with 6 decimals (1e-13 as 0.000000); its help
        // text, the option's type name, has them as given: "FLOAT in [1e-13 - 0.01]".
        std::string lo = m[3].str(), hi = m[4].str();
        static const std::regex bounds(".*in \\[(.*) - (.*)\\].*");
        std::smatch b;
        for (const CLI::App* sub : app.get_subcommands())
            for (const CLI::Option* opt : sub->get_options())
                if (sub->parsed() && opt->check_lname(m[1].str().substr(2))) {
                    const std::string type = opt->get_type_name();
                    if (std::regex_match(type, b, bounds)) lo = b[1].str(), hi = b[2].str();
                }
        return m[1].str() + ": must be " + lo + " to " + hi + " (got '" + m[2].str() + "')";
    }
    if (std::regex_match(what, m, member)) {
        std::string choices = m[3].str();
        for (std::size_t at; (at = choices.find(',')) != std::string::npos;) choices.replace(at, 1, " | ");
        return m[1].str() + ": must be one of " + choices + " (got '" + m[2].str() + "')";
    }
    return what;
}
}  // namespace

namespace xyzmf::cli {
namespace {

std::string program_description() {
    return "xyzmf " XYZMF_VERSION ": site-resolved mean-field dynamics of the driven-dissipative XYZ spin "
           "model\n(Lee, Gopalakrishnan & Lukin, PRL 110, 257204 (2013)). Rates and couplings are in units "
           "of the decay rate gamma;\ntimes in units of 1/gamma.";
}

std::vector<Command> add_commands(CLI::App& app, const std::string& command_line) {
    app.set_version_flag("--version", std::string(XYZMF_VERSION " (git " XYZMF_GIT_REVISION ")"));
    app.require_subcommand(1);
    return {add_run_command(app, command_line),     add_analyze_command(app, command_line),
            add_stability_command(app, command_line), add_gaussian_command(app, command_line),
            add_quantum_command(app, command_line), add_dtwa_command(app, command_line),
            add_sweep_command(app, command_line),   add_merge_command(app, command_line),
            add_export_command(app, command_line),  add_repair_command(app, command_line),
            add_bench_command(app)};
}

}  // namespace

std::vector<std::string> command_names() {
    CLI::App app{program_description(), "xyzmf"};
    std::vector<std::string> names;
    for (const Command& c : add_commands(app, "xyzmf")) names.push_back(c.app->get_name());
    return names;
}

std::vector<OptionInfo> command_options(const std::string& command) {
    CLI::App app{program_description(), "xyzmf"};
    const std::vector<Command> commands = add_commands(app, "xyzmf");
    std::vector<OptionInfo> out;
    for (const Command& c : commands) {
        if (c.app->get_name() != command) continue;
        for (const CLI::Option* opt : c.app->get_options()) {
            if (opt->get_lnames().empty()) continue;
            OptionInfo o;
            o.name = opt->get_lnames().front();
            o.default_text = opt->get_default_str();
            o.description = opt->get_description();
            o.flag = opt->get_expected_min() == 0;
            out.push_back(std::move(o));
        }
    }
    return out;
}

int run_command_line(const std::vector<std::string>& arguments, const std::string& program, CommandOutput* output) {
    // --threads changes the calling thread's OpenMP count for this command only.
    struct ThreadCount {
        int n = omp_get_max_threads();
        ~ThreadCount() { omp_set_num_threads(n); }
    } restore_threads;
    struct DeviceChoice {  // --device likewise
        ~DeviceChoice() { restore_cuda_device(); }
    } restore_device;
    // Options a --config file gave (not the command line), and the file: an error
    // naming one of them says where it was set.
    std::vector<std::string> from_config;
    std::string config_path;
    const auto print_error = [&](std::string what) {
        const std::size_t dash = what.find("--");
        if (!from_config.empty() && dash != std::string::npos) {
            const std::size_t end = what.find_first_of(" :=,;()", dash);
            const std::string name = what.substr(dash, end == std::string::npos ? std::string::npos : end - dash);
            if (std::find(from_config.begin(), from_config.end(), name) != from_config.end())
                what += " (set in --config " + config_path + ")";
        }
        if (output) output->error = one_line(what);
        else if (!what.empty()) std::fprintf(stderr, "xyzmf: error: %s\n", one_line(what).c_str());
        // (empty: another MPI rank failed and says why)
    };
    // The program counts every stop signal since its first instruction; a caller
    // that made its own scope (the Python module) keeps it.
    std::optional<xyzmf::StopScope> program_scope;
    if (!output) program_scope.emplace(true);
    const auto line_of = [&program](const std::vector<std::string>& words) {
        std::string line = program;
        for (const std::string& a : words) line += " " + shell_word(a);
        return line;
    };
    std::string command_line = line_of(arguments);

    auto app_ptr = std::make_unique<CLI::App>(program_description(), "xyzmf");
    std::vector<xyzmf::cli::Command> commands = add_commands(*app_ptr, command_line);
    int parse_code = 0;  // a refusal of the command line: its exit code and message
    std::string parse_error;
    std::unique_ptr<CLI::Success> success;  // --help, --version
    try {
        std::vector<std::string> args = arguments;
        for (std::size_t i = 0; i < args.size(); ++i)
            if (args[i].empty())
                throw xyzmf::Error(i > 0 ? args[i - 1] + ": an empty value is not a value"
                                         : "an empty argument is not a command",
                                   xyzmf::exit_code::usage);
        // A first word that is no command (nor an option of the program's own)
        // is named, with the nearest command: CLI11 says only that one is required.
        if (!args.empty() && args[0][0] != '-') {
            std::vector<std::string> names;
            for (const auto& c : commands) names.push_back(c.app->get_name());
            if (std::find(names.begin(), names.end(), args[0]) == names.end()) {
                const std::string best = nearest_name(names, args[0]);
                std::string list;
                for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
                throw xyzmf::Error("'" + args[0] + "' is not a command" + (best.empty() ? "" : " (did you mean " + best + "?)") +
                                       "; the commands: " + list,
                                   xyzmf::exit_code::usage);
            }
        }
        // An option put before the command's name (xyzmf --threads 2 run): the
        // program itself has only --help, --version and --config (which may come
        // first), and CLI11 called it an unexpected argument while suggesting the
        // very option given.
        if (!args.empty() && args[0].size() > 1 && args[0][0] == '-' && args[0] != "--help" && args[0] != "-h" &&
            args[0] != "--version" && args[0] != "--config" && args[0].rfind("--config=", 0) != 0)
            for (std::size_t i = 1; i < args.size(); ++i)
                for (const auto& c : commands)
                    if (args[i] == c.app->get_name())
                        throw xyzmf::Error(args[0] + ": options follow the command's name (xyzmf " + args[i] + " " +
                                               args[0] + " ...)",
                                           xyzmf::exit_code::usage);
        const std::vector<std::string> given = args;
        args = xyzmf::cli::expand_config_file(std::move(args), *app_ptr, &config_path);
        for (const std::string& a : args)
            if (a.rfind("--", 0) == 0 && std::find(given.begin(), given.end(), a) == given.end())
                from_config.push_back(a.substr(0, a.find('=')));
        if (!config_path.empty()) {
            // Files record the command a later reader can run without the config
            // file, which may have changed since: its options spelt out, and
            // where they came from in a shell comment.
            command_line = line_of(args) + "  # options from --config " + shell_word(config_path);
            app_ptr = std::make_unique<CLI::App>(program_description(), "xyzmf");
            commands = add_commands(*app_ptr, command_line);
        }
        std::reverse(args.begin(), args.end());  // CLI11 takes a vector back to front
        app_ptr->parse(args);
    } catch (const xyzmf::Error& e) {
        parse_code = e.exit_code();
        parse_error = e.what();
    } catch (const CLI::Success& e) {  // --help, --version
        success = std::make_unique<CLI::Success>(e);
    } catch (const CLI::ParseError& e) {
        std::string what = e.what();
        what = what.substr(0, what.find('\n'));
        if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
            what = extras_in_order(what);
            what += suggestion(what, *app_ptr);
        }
        parse_code = xyzmf::exit_code::usage;
        parse_error = plain_parse_error(what, *app_ptr) + " (see --help)";
    } catch (const std::bad_alloc&) {
        parse_code = 1;
        parse_error = "out of memory while reading the command line";
    } catch (const std::exception& e) {
        parse_code = 1;
        parse_error = std::string("internal error (please report): ") + e.what();
    }
    // Under mpirun every rank read the same command line (and --config file): a
    // refusal is said once, by rank 0, and every rank stops here.
    parse_code = xyzmf::cli::agree_on_command_line(parse_code, parse_error);
    if (parse_code != 0) {
        print_error(parse_error);
        return parse_code;
    }
    if (success) {
        if (!output) return app_ptr->exit(*success);
        std::ostringstream text;
        const int code = app_ptr->exit(*success, text, text);
        output->text = text.str();
        return code;
    }
    try {
        xyzmf::throw_if_interrupted("before the command started; nothing written");
        // A decaying component stops near 1e-305, not a slow subnormal (core/subnormals.hpp).
        // Here, once --threads has set the team: OMP_NUM_THREADS=100000 --threads 1 is one thread.
        const xyzmf::SubnormalsFlushed flushed;
        for (auto& c : commands)
            if (c.app->parsed()) {
                const int code = c.run();
                // A stop signal that came after the command's last look at it:
                // its output is complete, but the signal is not lost.
                if (code == 0) xyzmf::throw_if_interrupted("as the command finished; its output is complete");
                return code;
            }
    } catch (const xyzmf::Error& e) {
        print_error(e.what());
        return e.exit_code();
    } catch (const std::bad_alloc&) {
        print_error("out of memory");
        return 1;
    } catch (const std::exception& e) {
        // Not an xyzmf::Error: a defect of ours, reported as such in one line.
        std::string what = e.what();
        print_error("internal error (please report): " + what);
        return 1;
    }
    return 0;
}

}  // namespace xyzmf::cli
