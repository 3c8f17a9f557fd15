// Ensemble directories (model/ensemble_manifest.h): one path naming several
// members and their weights, the same as -m per member with --ensemble-weights,
// in every command that decodes; commands that work on one model refuse it
// naming the members; malformed manifests are refused naming file, line and field.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/default_model.h"
#include "heed/core/error.h"
#include "heed/model/ensemble_manifest.h"
#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;

namespace {

const std::string kJoint = std::string(HEED_TEST_DATA) + "/tiny-joint";

fs::path fresh_dir(const std::string &name) {
  const fs::path dir = test::temp_dir() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path &path, const std::string &text) { std::ofstream(path) << text; }

// The message of the ModelError read_ensemble_manifest throws, or "" when it reads.
std::string manifest_error(const fs::path &dir, const std::string &yaml) {
  write(dir / "ensemble.yml", yaml);
  try {
    read_ensemble_manifest(dir.string());
  } catch (const ModelError &e) {
    return e.what();
  }
  return "";
}

} // namespace

TEST_CASE("ensemble manifest: members resolved against its directory, weights default to 1",
          "[ensemble][manifest]") {
  const fs::path dir = fresh_dir("heed-manifest-read");
  fs::create_directories(dir / "a");
  write(dir / "ensemble.yml", "# two members\nmodels:\n  - a\n  - " + kJoint + "\n");
  REQUIRE(is_ensemble_manifest(dir.string()));
  REQUIRE(is_ensemble_manifest((dir / "ensemble.yml").string()));
  CHECK_FALSE(is_ensemble_manifest(kJoint)); // a model directory
  CHECK_FALSE(is_ensemble_manifest((dir / "a").string()));
  CHECK_FALSE(is_ensemble_manifest((dir / "missing").string()));

  for (const std::string &path : {dir.string(), (dir / "ensemble.yml").string()}) {
    const EnsembleManifest m = read_ensemble_manifest(path);
    CHECK(m.path == (dir / "ensemble.yml").string());
    REQUIRE(m.models.size() == 2);
    CHECK(fs::equivalent(m.models[0], dir / "a"));
    CHECK(m.models[1] == kJoint); // absolute stays as written
    CHECK(m.weights == std::vector<double>{1.0, 1.0});
  }
  write(dir / "ensemble.yml", "models: [a, a]\nweights: [0.25, 3]\n");
  CHECK(read_ensemble_manifest(dir.string()).weights == std::vector<double>{0.25, 3.0});
  CHECK_FALSE(read_ensemble_manifest(dir.string()).beam_size);
  CHECK_FALSE(read_ensemble_manifest(dir.string()).length_penalty);
  write(dir / "ensemble.yml", "models: [a]\nbeam-size: 4\nnormalize: 1.4\n");
  CHECK(read_ensemble_manifest(dir.string()).beam_size == 4);
  CHECK(read_ensemble_manifest(dir.string()).length_penalty == 1.4);

  // A directory with config.json is a model, whatever else it holds.
  write(dir / "a" / "config.json", "{}");
  write(dir / "a" / "ensemble.yml", "models: [x]\n");
  CHECK_FALSE(is_ensemble_manifest((dir / "a").string()));
  fs::remove_all(dir);
}

TEST_CASE("ensemble manifest: malformed manifests name file, line and field",
          "[ensemble][manifest]") {
  const fs::path dir = fresh_dir("heed-manifest-bad");
  fs::create_directories(dir / "inner");
  write(dir / "inner" / "ensemble.yml", "models: [x]\n");
  const std::string file = (dir / "ensemble.yml").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"models: [a\n", file + ":2: not valid YAML"},
      {"- a\n- b\n", file + ": expected a YAML mapping"},
      {"models: [a]\nweight: [1]\n", file + ":2: unknown key 'weight'"},
      {"weights: [1]\n", "models: expected a list of at least one model path"},
      {"models: []\n", file + ":1: models: expected a list"},
      {"models: a\n", file + ":1: models: expected a list"},
      {"models:\n  - [a, b]\n", file + ":2: models: each entry must be a model path"},
      {"models:\n  - a\n  - inner\n", file + ":3: models: inner is an ensemble itself"},
      {"models: [a, b]\nweights: [1]\n", file + ":2: weights: expected a list of 2"},
      {"models: [a, b]\nweights: 1\n", file + ":2: weights: expected a list of 2"},
      {"models: [a, b]\nweights: [1, 0]\n", "weights: '0' is not a positive finite number"},
      {"models: [a, b]\nweights: [1, -2]\n", "weights: '-2' is not a positive"},
      {"models: [a, b]\nweights: [.inf, 1]\n", "weights: '.inf' is not a positive"},
      {"models: [a, b]\nweights: [1, x]\n", "weights: 'x' is not a positive"},
      {"models: [a, b]\nweights: [1, [2]]\n", "weights: an entry is not a positive"},
      {"models: [a]\nbeam-size: 0\n", file + ":2: beam-size: expected a whole number from 1"},
      {"models: [a]\nbeam-size: 2.5\n", "beam-size: expected a whole number"},
      {"models: [a]\nbeam-size: 5000\n", "beam-size: expected a whole number"},
      {"models: [a]\nbeam-size: [4]\n", "beam-size: expected a whole number"},
      {"models: [a]\nnormalize: .nan\n", file + ":2: normalize: expected a finite number"},
      {"models: [a]\nnormalize: x\n", "normalize: expected a finite number"},
  };
  for (const auto &[yaml, expected] : cases) {
    INFO(yaml);
    CHECK_THAT(manifest_error(dir, yaml), Catch::Contains(expected));
  }
  // A member the system cannot examine is this file's error at that entry,
  // the path printable (found by fuzz_ensemble_manifest: a name too long, of
  // bytes that are not UTF-8, was reported under its own raw name).
  fs::create_directory_symlink("loop", dir / "loop");
  for (const auto &[yaml, line] : std::vector<std::pair<std::string, std::string>>{
           {"models:\n  - " + std::string(300, 'x') + "\n", ":2: models: "},
           {"models:\n  - '/a" + std::string(330, '\xff') + "'\n", ":2: models: "},
           {"models: [a, loop/x]\n", ":1: models: "}}) {
    const std::string error = manifest_error(dir, yaml);
    INFO(error);
    CHECK(error.rfind(file + line, 0) == 0);
    CHECK_THAT(error, Catch::Contains("cannot access"));
    CHECK(error.find('\xff') == std::string::npos);
  }
  // Too large to be a manifest: refused before parsing.
  CHECK_THAT(manifest_error(dir, "models: [a]\n# " + std::string(70'000, 'x') + "\n"),
             Catch::Contains(file));
  fs::remove_all(dir);
}

TEST_CASE("ensemble directory: the shipped-model lookup accepts one", "[ensemble][manifest]") {
  const fs::path dir = fresh_dir("heed-manifest-default");
  fs::create_directories(dir / "models" / "empty");
  fs::create_directories(dir / "models" / "ensemble");
  write(dir / "models" / "ensemble" / "ensemble.yml", "models: [" + kJoint + "]\n");
  CHECK(app::first_model_dir({dir / "models" / "empty", dir / "models" / "ensemble"}) ==
        (dir / "models" / "ensemble").string());
  fs::remove_all(dir);
}

TEST_CASE("ensemble directory: heed decodes it as -m per member with its weights",
          "[ensemble][manifest][cli]") {
  using test::run_heed;
  const fs::path dir = fresh_dir("heed-manifest-cli");
  const fs::path int8 = dir / "int8";
  REQUIRE(run_heed("convert -m '" + kJoint + "' --quantize int8 -o '" + int8.string() + "'")
              .exit_code == 0);
  const fs::path ens = dir / "ens";
  fs::create_directories(ens);
  // One member relative to the manifest, one absolute.
  write(ens / "ensemble.yml", "models:\n  - ../int8\n  - " + kJoint + "\nweights: [0.75, 0.25]\n");
  const std::string members = "-m '" + int8.string() + "' -m '" + kJoint + "'";
  const std::string texts = " 'Two dogs play in the snow.' 'Hello' 'A little girl.'";

  const auto expected =
      run_heed("translate -q " + members + " --ensemble-weights 0.75,0.25 -b 3 --n-best 2" + texts);
  REQUIRE(expected.exit_code == 0);
  const auto got = run_heed("translate -q -m '" + ens.string() + "' -b 3 --n-best 2" + texts);
  REQUIRE(got.exit_code == 0);
  CHECK(got.out == expected.out);
  // The manifest file itself, and $HEED_MODEL, name the same ensemble.
  CHECK(
      run_heed("translate -q -m '" + (ens / "ensemble.yml").string() + "' -b 3 --n-best 2" + texts)
          .out == expected.out);
  CHECK(run_heed("translate -q -b 3 --n-best 2" + texts, "",
                 "export HEED_MODEL='" + ens.string() + "';")
            .out == expected.out);
  // --ensemble-weights replaces the manifest's, one per member.
  const auto equal = run_heed("translate -q " + members + " --ensemble-weights 1,1" + texts);
  const auto overridden =
      run_heed("translate -q -m '" + ens.string() + "' --ensemble-weights 1,1" + texts);
  REQUIRE(overridden.exit_code == 0);
  CHECK(overridden.out == equal.out);
  const auto count = run_heed("translate -q -m '" + ens.string() + "' --ensemble-weights 1 Hello");
  CHECK(count.exit_code == 2);
  CHECK_THAT(count.err, Catch::Contains("--ensemble-weights: 1 weight for 2 models: give one per "
                                        "model (an ensemble directory counts each"));
  // An ensemble directory with a further -m: its members, then that model.
  const auto three = run_heed("translate -q -m '" + ens.string() + "' -m '" + kJoint + "'" + texts);
  const auto three_expected = run_heed("translate -q " + members + " -m '" + kJoint +
                                       "' --ensemble-weights 0.75,0.25,1" + texts);
  REQUIRE(three.exit_code == 0);
  CHECK(three.out == three_expected.out);

  // The manifest's beam-size and normalize are the ensemble's defaults; flags override them.
  write(ens / "ensemble.yml", "models:\n  - ../int8\n  - " + kJoint +
                                  "\nweights: [0.75, 0.25]\nbeam-size: 3\nnormalize: 1.5\n");
  const auto defaults = run_heed("translate -q -m '" + ens.string() + "'" + texts);
  REQUIRE(defaults.exit_code == 0);
  CHECK(defaults.out == run_heed("translate -q " + members +
                                 " --ensemble-weights 0.75,0.25 -b 3 --length-penalty 1.5" + texts)
                            .out);
  CHECK(run_heed("translate -q -m '" + ens.string() + "' -b 2 --length-penalty 0.5" + texts).out ==
        run_heed("translate -q " + members +
                 " --ensemble-weights 0.75,0.25 -b 2 --length-penalty 0.5" + texts)
            .out);
  const auto described = run_heed("info -m '" + ens.string() + "'");
  CHECK_THAT(described.out, Catch::Contains("(2 members)\nnum_beams: 3\nlength_penalty: 1.5\n"));
  write(ens / "ensemble.yml", "models:\n  - ../int8\n  - " + kJoint + "\nweights: [0.75, 0.25]\n");

  // heed score and heed attention.
  write(dir / "src.txt", "Two dogs play in the snow.\nHello\n");
  write(dir / "tgt.txt", "Zwei Hunde spielen im Schnee.\nHallo\n");
  const std::string files = " --source '" + (dir / "src.txt").string() + "' --target '" +
                            (dir / "tgt.txt").string() + "'";
  const auto score = run_heed("score -q -m '" + ens.string() + "'" + files);
  REQUIRE(score.exit_code == 0);
  CHECK(score.out == run_heed("score -q " + members + " --ensemble-weights 0.75,0.25" + files).out);
  const auto page = run_heed("attention -q -m '" + ens.string() + "' --html '" +
                             (dir / "page.html").string() + "' 'Two dogs play in the snow.'");
  REQUIRE(page.exit_code == 0);
  CHECK(
      page.out ==
      test::split_lines(
          run_heed("translate -q -m '" + ens.string() + "' 'Two dogs play in the snow.'").out)[0] +
          "\n");
  CHECK(fs::file_size(dir / "page.html") > 0);

  // heed info describes each member.
  const auto info = run_heed("info -m '" + ens.string() + "'");
  REQUIRE(info.exit_code == 0);
  CHECK_THAT(info.out,
             Catch::StartsWith("ensemble: " + (ens / "ensemble.yml").string() + " (2 members)\n"));
  CHECK_THAT(info.out, Catch::Contains("member 1 (weight 0.75)"));
  CHECK_THAT(info.out, Catch::Contains("member 2 (weight 0.25)"));
  CHECK_THAT(info.out, Catch::Contains("runtime.threads:"));
  const auto json = nlohmann::json::parse(run_heed("info --json -m '" + ens.string() + "'").out);
  CHECK(json["ensemble"] == (ens / "ensemble.yml").string());
  CHECK(json["weights"] == nlohmann::json::array({0.75, 0.25}));
  REQUIRE(json["members"].size() == 2);
  CHECK(json["members"][0]["weights"]["compute_type"] == "int8");
  CHECK(json.contains("runtime"));

  // Commands on one model refuse it, naming the members.
  for (const std::string &command : {"bench -i '" + (dir / "src.txt").string() + "'",
                                     "convert -o '" + (dir / "out").string() + "'"}) {
    INFO(command);
    const auto r = run_heed(command + " -m '" + ens.string() + "'");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("is an ensemble"));
    CHECK_THAT(r.err, Catch::Contains(kJoint));
    CHECK_FALSE(fs::exists(dir / "out"));
  }

  // A broken manifest: one line naming file and line, the model error's exit code.
  write(ens / "ensemble.yml", "models:\n  - ../int8\nweigths: [1]\n");
  const auto bad = run_heed("translate -q -m '" + ens.string() + "' Hello");
  CHECK(bad.exit_code == 3);
  CHECK(bad.err == "heed: model error: " + (ens / "ensemble.yml").string() +
                       ":3: unknown key 'weigths' (an ensemble manifest has `models:` and "
                       "optionally `weights:`, `beam-size:` and `normalize:`)\n");
  write(ens / "ensemble.yml", "models: [../missing]\n");
  const auto missing = run_heed("translate -q -m '" + ens.string() + "' Hello");
  CHECK(missing.exit_code == 3);
  CHECK_THAT(missing.err, Catch::Contains("missing"));
  fs::remove_all(dir);
}
