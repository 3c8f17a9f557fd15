// heed merge-shards: the outputs of --shard 0/N ... N-1/N interleaved into one
// (heed/io/shards.h).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/commands/commands.h"
#include "app/options.h"
#include "heed/core/error.h"
#include "heed/io/shards.h"

namespace heed::app {
namespace {

struct MergeFlags {
  std::vector<std::string> files;
  int64_t lines_per_input = 1;
};

void run(const MergeFlags &f) {
  io::merge_shards(f.files, std::cout, f.lines_per_input);
  std::cout.flush();
  if (!std::cout)
    throw IoError("standard output: write error");
}

} // namespace

Command add_merge_shards_command(CLI::App &app) {
  auto f = std::make_shared<MergeFlags>();
  auto *cmd = app.add_subcommand(
      "merge-shards", "Interleave the outputs of --shard 0/N ... N-1/N into one, to stdout");
  cmd->add_option("files", f->files, "Shard outputs, shard 0 first")->required();
  cmd->add_option("--lines-per-input", f->lines_per_input,
                  "Output lines per input (the n-best size for text n-best lists)")
      ->check(at_least(1));
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
