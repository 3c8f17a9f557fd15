// Which model heed uses without -m: $HEED_MODEL, else the model shipped beside
// the binary, found from the executable's location and not the working
// directory.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "heed/core/error.h"
#include "app/default_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using heed::test::run_heed;
using heed::test::run_program;

namespace {

const std::string kFixture = std::string(HEED_TEST_DATA) + "/tiny-joint";
// The shipped model: an ensemble directory (ensemble.yml) of MarianMT members.
const fs::path kShippedModel = fs::path(HEED_TEST_DATA) / ".." / ".." / "models" / "multi30k-en-de";

// A copy of the heed binary at ROOT/bin/heed, as `make install` lays it out.
fs::path install_copy(const std::string &name) {
  const fs::path root = heed::test::temp_dir() / name;
  fs::remove_all(root);
  fs::create_directories(root / "bin");
  fs::copy_file(HEED_BINARY, root / "bin" / "heed");
  return root;
}

} // namespace

TEST_CASE("default model candidates: beside the executable, then the source tree",
          "[default-model]") {
  const auto candidates = heed::app::default_model_candidates("/opt/heed/bin/heed");
  REQUIRE(candidates.size() == 4);
  CHECK(candidates[0] == "/opt/heed/models/multi30k-en-de");
  CHECK(candidates[1] == "/opt/heed/share/heed/models/multi30k-en-de");
  CHECK(candidates[2] == "/opt/heed/bin/models/multi30k-en-de");
  CHECK(fs::equivalent(candidates[3], kShippedModel));
}

TEST_CASE("HEED_MODEL stands in for -m and -m overrides it", "[default-model][cli]") {
  const auto with_flag = run_heed("translate -m '" + kFixture + "' 'Two dogs play.' 'Hello'");
  REQUIRE(with_flag.exit_code == 0);
  const auto with_env =
      run_heed("translate 'Two dogs play.' 'Hello'", "", "export HEED_MODEL='" + kFixture + "';");
  REQUIRE(with_env.exit_code == 0);
  CHECK(with_env.out == with_flag.out);

  // -m wins over the environment.
  const auto both = run_heed("translate -m '" + kFixture + "' 'Two dogs play.' 'Hello'", "",
                             "export HEED_MODEL=/nonexistent;");
  CHECK(both.exit_code == 0);
  CHECK(both.out == with_flag.out);

  const auto bad = run_heed("translate 'Hello'", "", "export HEED_MODEL=/nonexistent/dir;");
  CHECK(bad.exit_code == 3); // as -m /nonexistent/dir: a model that is not there
  CHECK(bad.err ==
        "heed: model error: HEED_MODEL=/nonexistent/dir is not a directory (unset it to use "
        "the shipped model, or pass -m DIR)\n");

  const auto info = run_heed("info", "", "export HEED_MODEL='" + kFixture + "';");
  CHECK(info.exit_code == 0);
  CHECK(info.out.find("architecture.d_model: 32") != std::string::npos);
}

TEST_CASE("an installed heed finds share/heed/models from any directory", "[default-model][cli]") {
  const fs::path root = install_copy("install-layout");
  fs::create_directories(root / "share" / "heed" / "models");
  fs::copy(kFixture, root / "share" / "heed" / "models" / "multi30k-en-de",
           fs::copy_options::recursive);
  const auto expected = run_heed("translate -m '" + kFixture + "' 'Two dogs play.'");
  REQUIRE(expected.exit_code == 0);

  // Run from / through a symlink in another directory: the lookup follows the
  // real executable, not the working directory or the link.
  fs::create_directories(root / "links");
  fs::create_symlink(root / "bin" / "heed", root / "links" / "heed");
  const auto got = run_program((root / "links" / "heed").string(), "translate 'Two dogs play.'", "",
                               "cd / && unset HEED_MODEL &&");
  CHECK(got.exit_code == 0);
  CHECK(got.out == expected.out);
}

TEST_CASE("a build directory outside the source tree finds the source tree's model",
          "[default-model][cli]") {
  // What `cmake -S . -B /tmp/anywhere` builds: a heed with no models/ near it.
  // It was configured from this source tree, so it falls back to models/ there.
  const fs::path root = install_copy("out-of-tree-build");
  const auto expected = run_heed("translate -m '" + kShippedModel.string() + "' 'Two dogs play.'");
  REQUIRE(expected.exit_code == 0);
  const auto got = run_program((root / "bin" / "heed").string(), "translate 'Two dogs play.'", "",
                               "cd / && unset HEED_MODEL &&");
  CHECK(got.exit_code == 0);
  CHECK(got.out == expected.out);
  const auto info =
      run_program((root / "bin" / "heed").string(), "info", "", "unset HEED_MODEL &&");
  CHECK(info.out.find("ensemble: " +
                       (kShippedModel.lexically_normal() / "ensemble.yml").string() + " (") !=
        std::string::npos);
  CHECK(info.out.find("directory: " + (kShippedModel.lexically_normal() / "a").string() + "\n") !=
        std::string::npos);
}

TEST_CASE("no model anywhere is a model error naming the places searched", "[default-model]") {
  const fs::path root = heed::test::temp_dir() / "empty-layout";
  fs::create_directories(root / "models" / "multi30k-en-de"); // no config.json: not a model
  const std::vector<fs::path> candidates = {root / "models" / "multi30k-en-de",
                                            root / "nowhere" / "multi30k-en-de"};
  try {
    heed::app::first_model_dir(candidates);
    FAIL("no ModelError");
  } catch (const heed::ModelError &e) {
    CHECK(std::string(e.what()) ==
          "no model given and the shipped model multi30k-en-de is not installed; pass -m DIR or "
          "set HEED_MODEL (searched " +
              candidates[0].string() + ", " + candidates[1].string() + ")");
  }
  fs::create_directories(candidates[1].parent_path());
  fs::copy(kFixture, candidates[1], fs::copy_options::recursive);
  CHECK(heed::app::first_model_dir(candidates) == candidates[1].string());
}

TEST_CASE("the shipped model translates out of the box", "[default-model][cli][shipped]") {
  if (!fs::exists(kShippedModel / "ensemble.yml")) {
    WARN("models/multi30k-en-de is not in this checkout; skipped");
    return;
  }
  const auto got =
      run_heed("translate -m '" + kShippedModel.string() +
               "' 'A little girl climbing into a wooden playhouse.' 'Two dogs play in the snow.'");
  REQUIRE(got.exit_code == 0);
  CHECK(got.out.find("Mädchen") != std::string::npos);
  CHECK(got.out.find("Hunde") != std::string::npos);
  CHECK(got.out.find("Schnee") != std::string::npos);

  // The default alignment layer on a sentence whose alignment is plain.
  const auto aligned = run_heed("translate -m '" + kShippedModel.string() +
                                "' --alignment hard 'Two dogs play in the snow.'");
  REQUIRE(aligned.exit_code == 0);
  CHECK(aligned.out == "Zwei Hunde spielen im Schnee. ||| 0-0 1-1 2-2 3-3 5-4\n");
}
