// What every edgeformer command-line tool shares: its exit codes, --version, and the handling
// of a bad command line. Header-only (CLI11); used by the tools and edgeformer-convert.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <string>

#include "edgeformer.h"

namespace edgeformer {
namespace cli {

// Exit codes of every tool.
constexpr int kExitOk = 0;       // done (edgeformer-run: also when generation stopped at a full context)
constexpr int kExitFailure = 1;  // the work failed: a model, checkpoint, text or file was refused, or a
                                 // run failed; the reason is on stderr
constexpr int kExitUsage = 2;    // the command line is wrong (unknown option, bad value, missing
                                 // argument); the reason is on stderr with a pointer to --help

// Adds --version (prints "<tool> <library version>") to `app`.
inline void AddVersion(CLI::App& app, const std::string& tool) {
  app.set_version_flag("--version", tool + " " + edgeformer_version());
}

// Parses argv. Returns -1 to go on; otherwise the exit code to return, having printed the help
// or version to `out` (kExitOk) or the error to `err` (kExitUsage).
inline int Parse(CLI::App& app, int argc, const char* const* argv, const std::string& tool, std::FILE* out = stdout,
                 std::FILE* err = stderr) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::fputs(app.help().c_str(), out);
    return kExitOk;
  } catch (const CLI::CallForAllHelp&) {
    std::fputs(app.help("", CLI::AppFormatMode::All).c_str(), out);
    return kExitOk;
  } catch (const CLI::CallForVersion& e) {
    std::fprintf(out, "%s\n", e.what());
    return kExitOk;
  } catch (const CLI::ParseError& e) {
    std::fprintf(err, "%s: %s\nRun with --help for the options.\n", tool.c_str(), e.what());
    return kExitUsage;
  }
  return -1;
}

}  // namespace cli
}  // namespace edgeformer
