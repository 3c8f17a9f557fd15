// heed merge-shards: the outputs of --shard 0/N ... N-1/N interleaved into one
// (heed/jobs/merge_shards.h).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/commands/commands.h"
#include "app/options.h"
#include "heed/core/error.h"
#include "heed/io/distinct_files.h"
#include "heed/jobs/merge_shards.h"

namespace heed::app {
namespace {

struct MergeFlags {
  std::vector<std::string> files;
};

void run(const MergeFlags &f) {
  std::vector<io::NamedPath> shards;
  for (const auto &file : f.files)
    shards.push_back({"shard", file});
  io::check_distinct_files(shards, {{"output", "-"}});
  merge_shards(f.files, std::cout);
  std::cout.flush();
  if (!std::cout)
    throw IoError("standard output: write error");
}

} // namespace

Command add_merge_shards_command(CLI::App &app) {
  auto f = std::make_shared<MergeFlags>();
  auto *cmd = app.add_subcommand(
      "merge-shards", "Interleave the outputs of --shard 0/N ... N-1/N into one, to stdout; n-best "
                      "lists and JSON lines are checked by their input indices");
  cmd->add_option("files", f->files, "Shard outputs, shard 0 first")->required();
  return {cmd, [f] { run(*f); }};
}

} // namespace heed::app
