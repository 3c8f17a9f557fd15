// The subcommands of heed, one file each. Each adds its flags to the top-level
// app and returns what runs it when it is the one chosen; errors are thrown as
// heed errors (core/error.h) and become exit codes in main().
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace heed::app {

struct Command {
  CLI::App *cli = nullptr;   // the subcommand's parser: true once chosen
  std::function<void()> run; // maps the parsed flags onto the library and calls it
};

Command add_translate_command(CLI::App &app);
Command add_attention_command(CLI::App &app);
Command add_score_command(CLI::App &app);
Command add_info_command(CLI::App &app);
Command add_bench_command(CLI::App &app);
Command add_convert_command(CLI::App &app);
Command add_merge_shards_command(CLI::App &app);

} // namespace heed::app
