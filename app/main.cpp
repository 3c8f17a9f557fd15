// The heed command line: the process policies, the subcommands
// (commands/*.cpp, one file each) and the one mapping of errors to exit codes:
//   0 success, 1 internal error, 2 usage error (bad flag or value),
//   3 model error (missing/malformed model files), 4 input/output error.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <iostream>
#include <string>
#include <vector>

#include "app/commands/commands.h"
#include "app/interrupt_policy.h"
#include "app/memory_release_policy.h"
#include "app/suggest.h"
#include "app/thread_wait_policy.h"
#include "app/version.h"
#include "app/warnings.h"
#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace {

enum ExitCode { kOk = 0, kInternal = 1, kUsage = 2, kModel = 3, kIo = 4 };

// Error messages can quote what a user or a file supplied; escaping control
// characters keeps every error on one line of stderr.
std::string one_line(const std::string &message) { return heed::io::printable(message, 4096); }

const CLI::App *find_subcommand(const CLI::App &app, const std::string &name) {
  for (const CLI::App *sub : app.get_subcommands([](const CLI::App *) { return true; }))
    if (sub->get_name() == name)
      return sub;
  return nullptr;
}

std::vector<std::string> subcommand_names(const CLI::App &app) {
  std::vector<std::string> names;
  for (const CLI::App *sub : app.get_subcommands([](const CLI::App *) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// Every spelling of every flag of `cmd`: "--beam-size", "-b", ...
std::vector<std::string> flag_names(const CLI::App &cmd) {
  std::vector<std::string> names;
  for (const CLI::Option *opt : cmd.get_options()) {
    for (const auto &l : opt->get_lnames())
      names.push_back("--" + l);
    for (const auto &s : opt->get_snames())
      names.push_back("-" + s);
  }
  return names;
}

bool looks_like_number(const std::string &arg) {
  return arg.size() > 1 && arg[0] == '-' &&
         (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.');
}

// " (did you mean --beam-size?)" for the first flag of `args` that `cmd` does
// not know, when a known one is close; "" otherwise.
std::string flag_suggestion(const CLI::App &cmd, const std::vector<std::string> &args) {
  const auto known = flag_names(cmd);
  for (const auto &arg : args) {
    if (arg == "--")
      break;
    if (arg.size() < 2 || arg[0] != '-' || looks_like_number(arg))
      continue;
    const std::string name = arg.substr(0, arg.find('='));
    if (std::find(known.begin(), known.end(), name) != known.end())
      continue;
    const std::string close = heed::app::closest_name(name, known);
    if (!close.empty())
      return " (did you mean " + close + "?)";
  }
  return "";
}

// One line for a parse error: CLI11's own text (two lines) with a suggestion
// for a mistyped flag and the help to read.
std::string usage_failure(const CLI::App &app, const CLI::ParseError &e,
                          const std::vector<std::string> &args) {
  const CLI::App *cmd = args.empty() ? nullptr : find_subcommand(app, args[0]);
  std::string hint;
  if (dynamic_cast<const CLI::ExtrasError *>(&e) != nullptr)
    hint = flag_suggestion(cmd ? *cmd : app,
                           std::vector<std::string>(args.begin() + (cmd ? 1 : 0), args.end()));
  const std::string help = cmd ? "heed " + cmd->get_name() + " --help" : "heed --help";
  return "heed: error: " + one_line(e.what()) + hint + " (see " + help + ")\n";
}

} // namespace

int main(int argc, char **argv) {
  heed::app::apply_thread_wait_policy(argv);
  heed::app::apply_memory_release_policy();
  CLI::App app{"heed: translate with Marian (OPUS-MT) models on the CPU", "heed"};
  app.require_subcommand(1);
  app.set_version_flag(
      "--version",
      [] {
        std::string text = heed::app::version_text();
        text.pop_back(); // CLI11 adds the last newline
        return text;
      },
      "Print heed's version, build type, oneDNN version and the CPU instruction set, then exit");
  app.footer(
      "Each subcommand has its own options: `heed SUBCOMMAND --help`, e.g. `heed translate "
      "--help`.\nMost used (heed translate): -m DIR, -i FILE, -o FILE, --beam-size N, --n-best N, "
      "--batch-size N, --batch-type sentences|tokens, --format text|jsonl, --threads N, "
      "--resume, --shard K/N.\nExit codes: 0 success, 1 internal error, 2 usage error, 3 model "
      "error, 4 input/output error, 130 interrupted (Ctrl-C).");
  const std::vector<heed::app::Command> commands = {
      heed::app::add_translate_command(app),   heed::app::add_attention_command(app),
      heed::app::add_score_command(app),       heed::app::add_info_command(app),
      heed::app::add_bench_command(app),       heed::app::add_convert_command(app),
      heed::app::add_merge_shards_command(app)};

  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) { // `heed` alone: what it can do
    std::cout << app.help();
    return kOk;
  }
  // A mistyped subcommand, or an unknown flag before any: CLI11 would only say
  // that a subcommand is required.
  if (args[0].empty() || args[0][0] != '-') {
    if (find_subcommand(app, args[0]) == nullptr) {
      const std::string close = heed::app::closest_name(args[0], subcommand_names(app));
      std::cerr << "heed: error: unknown subcommand '" << one_line(args[0]) << "'"
                << (close.empty() ? "" : " (did you mean " + close + "?)")
                << " (see heed --help)\n";
      return kUsage;
    }
  } else if (const auto known = flag_names(app);
             std::find(known.begin(), known.end(), args[0].substr(0, args[0].find('='))) ==
             known.end()) {
    std::cerr << "heed: error: The following argument was not expected: " << one_line(args[0])
              << flag_suggestion(app, {args[0]}) << " (see heed --help)\n";
    return kUsage;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp &e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion &e) {
    return app.exit(e);
  } catch (const CLI::ParseError &e) {
    std::cerr << usage_failure(app, e, args);
    return kUsage;
  }

  // Held-back warnings are counted before the last line, error or not.
  auto fail = [](const char *kind, const std::exception &e, int code) {
    heed::app::finish_warnings();
    std::cerr << "heed: " << kind << one_line(e.what()) << '\n';
    return code;
  };
  try {
    for (const auto &command : commands)
      if (*command.cli)
        command.run();
  } catch (const heed::app::Interrupted &) {
    heed::app::finish_warnings();
    return 128 + heed::app::interrupting_signal(); // as a shell reports a killed process
  } catch (const heed::OptionError &e) {
    // The library names option fields ("beam_size"); the user typed flags.
    if (!e.field().empty()) {
      std::string flag = e.field();
      for (char &c : flag)
        c = c == '_' ? '-' : c;
      return fail("error: ", heed::OptionError("--" + flag + ": " + e.problem()), kUsage);
    }
    return fail("error: ", e, kUsage);
  } catch (const heed::ModelError &e) {
    return fail("model error: ", e, kModel);
  } catch (const heed::IoError &e) {
    return fail("error: ", e, kIo);
  } catch (const std::exception &e) {
    return fail("internal error: ", e, kInternal);
  }
  heed::app::finish_warnings();
  return kOk;
}
