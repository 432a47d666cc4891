// `--config FILE` for subcommands. CLI11 2.1 reads config files only for the
// top-level app, so we parse the file with CLI11's own TOML/INI reader and
// splice its keys in as command-line options; options given on the command
// line win over the file.
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

}  // namespace

std::vector<std::string> expand_config_file(std::vector<std::string> args) {
    std::string path;
    std::size_t at = args.size();
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--config" && i + 1 < args.size()) {
            path = args[i + 1];
            at = i;
            args.erase(args.begin() + i, args.begin() + i + 2);
            break;
        }
        if (args[i].rfind("--config=", 0) == 0) {
            path = args[i].substr(9);
            at = i;
            args.erase(args.begin() + i);
            break;
        }
    }
    if (path.empty()) return args;
    if (!std::ifstream(path)) throw Error("--config: cannot read " + path, exit_code::usage);
    std::vector<CLI::ConfigItem> items;
    try {
        items = CLI::ConfigTOML().from_file(path);
    } catch (const CLI::Error& e) {
        throw Error("--config: " + path + ": " + e.what(), exit_code::usage);
    }
    std::vector<std::string> extra;
    for (const CLI::ConfigItem& item : items) {
        if (item.name == "++" || item.name == "--") continue;  // section markers
        const std::string opt = "--" + item.name;
        if (given(args, opt)) continue;
        if (item.inputs.size() == 1 && (item.inputs[0] == "true" || item.inputs[0] == "false")) {
            if (item.inputs[0] == "true") extra.push_back(opt);
            continue;
        }
        extra.push_back(opt);
        extra.insert(extra.end(), item.inputs.begin(), item.inputs.end());
    }
    args.insert(args.begin() + std::min(at, args.size()), extra.begin(), extra.end());
    return args;
}

}  // namespace xyzmf::cli
