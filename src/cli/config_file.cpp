// `--config FILE` for subcommands. CLI11 2.1 reads config files only for the
// top-level app, so we parse the file with CLI11's own TOML/INI reader and
// splice its keys in as command-line options; options given on the command
// line win over the file.
#include <sys/stat.h>

#include <algorithm>
#include <fstream>

#include "cli.hpp"
#include "xyzmf/error.hpp"

namespace xyzmf::cli {
namespace {

bool given(const std::vector<std::string>& args, const std::string& opt) {
    return std::any_of(args.begin(), args.end(),
                       [&](const std::string& a) { return a == opt || a.rfind(opt + "=", 0) == 0; });
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

std::vector<std::string> expand_config_file(std::vector<std::string> args) {
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
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) throw Error("--config: " + path + ": no such file", exit_code::usage);
    if (!S_ISREG(st.st_mode)) throw Error("--config: " + path + ": not a regular file", exit_code::usage);
    if (!std::ifstream(path).good()) throw Error("--config: " + path + ": cannot be read", exit_code::usage);
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigTOML().from_file(path);
    } catch (const CLI::Error& e) {
        throw Error("--config: " + path + ": " + first_line(e.what()), exit_code::usage);
    }
    std::vector<std::string> extra;
    for (const CLI::ConfigItem& item : items) {
        if (item.name == "++" || item.name == "--") continue;  // section markers
        if (!item.parents.empty())
            throw Error("--config: " + path + ": sections ([" + item.parents.front() + "]) are not used; write key = value lines",
                        exit_code::usage);
        if (item.name == "config") throw Error("--config: " + path + ": a config file cannot name another (config = ...)",
                                               exit_code::usage);
        const std::string opt = "--" + item.name;
        if (given(args, opt)) continue;
        if (item.inputs.size() == 1 && (item.inputs[0] == "true" || item.inputs[0] == "false")) {
            if (item.inputs[0] == "true") extra.push_back(opt);
            continue;
        }
        extra.push_back(opt);
        extra.insert(extra.end(), item.inputs.begin(), item.inputs.end());
    }
    args.insert(args.begin() + std::ptrdiff_t(std::min(at, args.size())), extra.begin(), extra.end());
    return args;
}

}  // namespace xyzmf::cli
