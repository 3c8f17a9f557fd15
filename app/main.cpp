// The heed command line: the process policies, the subcommands
// (commands/*.cpp, one file each) and the one mapping of errors to exit codes:
//   0 success, 1 internal error, 2 usage error (bad flag or value),
//   3 model error (missing/malformed model files), 4 input/output error.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>
#include <vector>

#include "app/commands/commands.h"
#include "app/memory_release_policy.h"
#include "app/thread_wait_policy.h"
#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace {

enum ExitCode { kOk = 0, kInternal = 1, kUsage = 2, kModel = 3, kIo = 4 };

// Error messages can quote what a user or a file supplied; escaping control
// characters keeps every error on one line of stderr.
std::string one_line(const std::string &message) { return heed::io::printable(message, 4096); }

// CLI11 reports a parse error on two lines ("Run with --help ..."); heed's
// errors are one line.
std::string usage_failure(const CLI::App *, const CLI::Error &e) {
  return "heed: error: " + one_line(e.what()) + " (see heed --help)\n";
}

} // namespace

int main(int argc, char **argv) {
  heed::app::apply_thread_wait_policy(argv);
  heed::app::apply_memory_release_policy();
  CLI::App app{"heed: translate with Marian (OPUS-MT) models on the CPU"};
  app.require_subcommand(1);
  app.footer("Exit codes: 0 success, 1 internal error, 2 usage error, 3 model error, "
             "4 input/output error.");
  app.failure_message(usage_failure);
  const std::vector<heed::app::Command> commands = {
      heed::app::add_translate_command(app),   heed::app::add_attention_command(app),
      heed::app::add_score_command(app),       heed::app::add_info_command(app),
      heed::app::add_bench_command(app),       heed::app::add_convert_command(app),
      heed::app::add_merge_shards_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? kOk : kUsage;
  }

  try {
    for (const auto &command : commands)
      if (*command.cli)
        command.run();
  } catch (const heed::OptionError &e) {
    // The library names option fields ("beam_size"); the user typed flags.
    std::string flag = e.field();
    for (char &c : flag)
      c = c == '_' ? '-' : c;
    std::cerr << "heed: error: "
              << one_line(flag.empty() ? e.what() : "--" + flag + ": " + e.problem()) << '\n';
    return kUsage;
  } catch (const heed::ModelError &e) {
    std::cerr << "heed: model error: " << one_line(e.what()) << '\n';
    return kModel;
  } catch (const heed::IoError &e) {
    std::cerr << "heed: error: " << one_line(e.what()) << '\n';
    return kIo;
  } catch (const std::exception &e) {
    std::cerr << "heed: internal error: " << one_line(e.what()) << '\n';
    return kInternal;
  }
  return kOk;
}
