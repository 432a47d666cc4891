// `--config FILE` for subcommands. CLI11 2.1 reads config files only for the
// top-level app, so we parse the file with CLI11's own TOML/INI reader and
// splice its keys in as command-line options; options given on the command
// line win over the file.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "options.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf::cli {
namespace {

// Whether the command line sets this option under any of its names: --name,
// --name=value, -o value or -ovalue.
bool given(const std::vector<std::string>& args, const CLI::Option& opt) {
    return std::any_of(args.begin(), args.end(), [&](const std::string& a) {
        for (const std::string& l : opt.get_lnames())
            if (a == "--" + l || a.rfind("--" + l + "=", 0) == 0) return true;
        for (const std::string& sn : opt.get_snames())
            if (a.rfind("-" + sn, 0) == 0 && a.rfind("--", 0) != 0) return true;
        return false;
    });
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// A key or value quoted in a message: at most 60 characters of it.
std::string shown(const std::string& s) {
    return s.size() <= 60 ? s : s.substr(0, 60) + "... (" + std::to_string(s.size()) + " characters)";
}

// The lines (from 1) on which `key = ...` sets `key`, bare or quoted.
std::vector<int> lines_of_key(const std::string& text, const std::string& key) {
    std::vector<int> out;
    std::istringstream in(text);
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        std::size_t at = line.find_first_not_of(" \t");
        if (at == std::string::npos) continue;
        std::string name;
        if (line[at] == '"' || line[at] == '\'') {
            const std::size_t close = line.find(line[at], at + 1);
            if (close == std::string::npos) continue;
            name = line.substr(at + 1, close - at - 1);
            at = close + 1;
        } else {
            const std::size_t end = line.find_first_of(" \t=", at);
            if (end == std::string::npos) continue;
            name = line.substr(at, end - at);
            at = end;
        }
        at = line.find_first_not_of(" \t", at);
        if (name == key && at != std::string::npos && line[at] == '=') out.push_back(number);
    }
    return out;
}

// A config file is a page of options, not data: anything larger is a mistake
// (and is refused before it is read, whatever the memory limit).
constexpr long long kMaxConfigBytes = 1 << 20;

// The subcommand the arguments name (the first argument that is one), or null.
const CLI::App* subcommand_of(const CLI::App& app, const std::vector<std::string>& args) {
    for (const std::string& a : args)
        for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
            if (sub->get_name() == a) return sub;
    return nullptr;
}

}  // namespace

void add_config_option(CLI::App* sub) {
    // Expanded before parsing by expand_config_file(); registered for --help only.
    sub->add_option("--config", "Read options from a TOML/INI file: keys are this command's long option names "
                                "without the dashes (for run e.g. Jx = 2, t-end = 400, size = \"512x256\"); "
                                "an option on the command line wins over the file");
}

std::vector<std::string> expand_config_file(std::vector<std::string> args, const CLI::App& app, std::string* path_read) {
    std::string path;
    std::size_t at = args.size();
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string value;
        std::size_t used = 0;
        if (args[i] == "--config" && i + 1 < args.size()) {
            value = args[i + 1];
            used = 2;
        } else if (args[i].rfind("--config=", 0) == 0) {
            value = args[i].substr(9);
            used = 1;
        } else {
            continue;
        }
        if (at != args.size()) throw Error("--config: given more than once", exit_code::usage);
        if (value.empty()) throw Error("--config: needs a file name", exit_code::usage);
        path = value;
        at = i;
        args.erase(args.begin() + std::ptrdiff_t(i), args.begin() + std::ptrdiff_t(i + used));
        --i;
    }
    if (path.empty()) return args;
    if (path_read) *path_read = path;
    const CLI::App* sub = subcommand_of(app, args);
    if (!sub) throw Error("--config " + path + ": give it after a command, e.g. xyzmf run --config " + path,
                          exit_code::usage);
    const std::string where = "--config " + path + ": ";
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw Error(where + "no such file", exit_code::io);
    if (!S_ISREG(st.st_mode)) throw Error(where + "not a regular file", exit_code::io);
    if (st.st_size > kMaxConfigBytes)
        throw Error(where + std::to_string((long long)st.st_size) + " bytes; a config file holds at most " +
                        std::to_string(kMaxConfigBytes) + " bytes of options",
                    exit_code::usage);
    std::ifstream in(path, std::ios::binary);
    if (!in.good()) throw Error(where + "cannot be read", exit_code::io);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.size() > std::size_t(kMaxConfigBytes)) throw Error(where + "grew past 1 MiB while it was read", exit_code::usage);
    if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // a UTF-8 byte-order mark (some editors write one)
    if (const std::size_t nul = text.find('\0'); nul != std::string::npos)
        throw Error(where + "line " + std::to_string(1 + std::count(text.begin(), text.begin() + std::ptrdiff_t(nul), '\n')) +
                        " holds a NUL byte (not a text file?)",
                    exit_code::usage);
    std::vector<CLI::ConfigItem> items;
    try {
        std::istringstream stream(text);
        items = CLI::ConfigTOML().from_config(stream);
    } catch (const CLI::Error& e) {
        throw Error(where + shown(first_line(e.what())), exit_code::usage);
    }
    std::vector<std::string> extra;
    std::set<std::string> seen;
    for (const CLI::ConfigItem& item : items) {
        if (item.name == "++" || item.name == "--") continue;  // section markers
        if (!item.parents.empty())
            throw Error(where + "sections ([" + item.parents.front() + "]) are not used; write key = value lines",
                        exit_code::usage);
        if (item.name == "config") throw Error(where + "a config file cannot name another (config = ...)", exit_code::usage);
        const CLI::Option* opt = sub->get_option_no_throw("--" + item.name);
        if (!opt || item.name == "help") {
            std::vector<std::string> keys;
            for (const CLI::Option* o : sub->get_options())
                for (const std::string& n : o->get_lnames())
                    if (n != "help" && n != "config") keys.push_back(n);
            const std::string near = nearest_name(keys, item.name);
            throw Error(where + "unknown key '" + shown(item.name) + "': `xyzmf " + sub->get_name() +
                            "` has no option --" + shown(item.name) +
                            (near.empty() ? "" : " (did you mean " + near + "?)") + " (see xyzmf " + sub->get_name() +
                            " --help)",
                        exit_code::usage);
        }
        if (!seen.insert(item.name).second)
            throw Error(where + "key '" + item.name + "' is given twice", exit_code::usage);
        if (item.inputs.size() > 1 && opt->get_expected_max() <= 1) {
            // The TOML reader joins a key given on several lines into one array.
            const std::vector<int> lines = lines_of_key(text, item.name);
            if (lines.size() > 1) {
                std::string list;
                for (std::size_t i = 0; i < lines.size(); ++i)
                    list += (i == 0 ? "" : i + 1 == lines.size() ? " and " : ", ") + std::to_string(lines[i]);
                throw Error(where + "key '" + item.name + "' is given on lines " + list + "; give it once",
                            exit_code::usage);
            }
            throw Error(where + "key '" + item.name + "' has " + std::to_string(item.inputs.size()) +
                            " values (an array); --" + item.name + " takes one",
                        exit_code::usage);
        }
        if (given(args, *opt)) continue;
        const std::string name = "--" + item.name;
        // A switch takes true or false; an option with a value takes its value,
        // even "false" (which its parser then refuses: it was dropped, or took
        // the next word of the command line as its value).
        if (opt->get_expected_max() == 0) {
            const bool on = item.inputs.size() == 1 && item.inputs[0] == "true";
            if (!on && !(item.inputs.size() == 1 && item.inputs[0] == "false"))
                throw Error(where + "key '" + item.name + "' is a switch: write " + item.name + " = true or false (got '" +
                                (item.inputs.empty() ? std::string() : item.inputs[0]) + "')",
                            exit_code::usage);
            if (on) extra.push_back(name);
            continue;
        }
        if (item.inputs.size() == 1 && (item.inputs[0] == "true" || item.inputs[0] == "false"))
            throw Error(where + "key '" + item.name + "': --" + item.name + " takes a value, not " + item.inputs[0],
                        exit_code::usage);
        extra.push_back(name);
        extra.insert(extra.end(), item.inputs.begin(), item.inputs.end());
    }
    // After the command's name: options before it would go to the program itself.
    std::size_t sub_at = 0;
    while (sub_at < args.size() && args[sub_at] != sub->get_name()) ++sub_at;
    at = std::max(at, sub_at + 1);
    args.insert(args.begin() + std::ptrdiff_t(std::min(at, args.size())), extra.begin(), extra.end());
    return args;
}

}  // namespace xyzmf::cli
