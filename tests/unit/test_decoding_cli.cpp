// The decoding flags of heed translate as a user runs them: --sampling (the
// same --seed gives the same output whatever the batching, threads, workers,
// shards or resume point; top-k 1 is greedy search), the processors' flags and
// the generation config's fields, settings that would change nothing refused,
// length limits made visible, --word-scores, and target prefixes.
#include <catch2/catch.hpp>

#include <fstream>

#include "test_support.h"

using namespace heed;
using test::read_file;
using test::run_heed;
namespace fs = std::filesystem;

namespace {

const std::string kModel = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";

std::string sampled(const std::string &args) {
  const auto r = run_heed("translate " + kModel + " -q " + args);
  INFO(args << ": " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

} // namespace

TEST_CASE("sampling: a seed gives the same output whatever the batching, threads and workers",
          "[sampling]") {
  const fs::path dir = test::write_mixed_corpus("sampling-batching", 150, 41);
  const std::string input = "-i '" + (dir / "corpus.txt").string() + "' ";
  const std::string base = input + "--sampling --top-k 20 --temperature 1.2 --seed 7 ";
  const std::string reference = sampled(base + "--batch-size 32 --threads 1");
  for (const std::string variant :
       {"--batch-size 1 --threads 1", "--batch-size 7 --threads 2",
        "--batch-type tokens "
        "--batch-size 90",
        "--batch-size 5 --window 17", "--threads 1 --workers 2 --batch-size 4"}) {
    INFO(variant);
    CHECK(sampled(base + variant) == reference);
  }
  // Another seed samples other translations; top-k 1 samples the argmax.
  const std::string other = sampled(input + "--sampling --top-k 20 --temperature 1.2 --seed 8");
  CHECK(other != reference);
  const auto lines = test::split_lines(reference), other_lines = test::split_lines(other);
  REQUIRE(lines.size() == other_lines.size());
  size_t differ = 0;
  for (size_t i = 0; i < lines.size(); ++i)
    differ += lines[i] != other_lines[i];
  CHECK(differ * 4 > lines.size()); // most lines, not a few
  CHECK(sampled(input + "--sampling --top-k 1 --seed 3") == sampled(input + "--beam-size 1"));
}

TEST_CASE("sampling: shards merged and a run resumed after SIGKILL give the same output",
          "[sampling]") {
  const fs::path dir = test::write_mixed_corpus("sampling-resume", 900, 42);
  const std::string base = "--sampling --top-p 0.9 --seed 5 --threads 1 --window 64 "
                           "--batch-size 8 -i '" +
                           (dir / "corpus.txt").string() + "' ";
  const std::string single = sampled(base);
  std::string merge_args;
  for (int k = 0; k < 3; ++k) {
    const fs::path part = dir / ("part" + std::to_string(k));
    sampled(base + "--shard " + std::to_string(k) + "/3 -o '" + part.string() + "'");
    merge_args += " '" + part.string() + "'";
  }
  const auto merged = run_heed("merge-shards" + merge_args);
  INFO(merged.err);
  REQUIRE(merged.exit_code == 0);
  CHECK(merged.out == single);

  const fs::path partial = dir / "partial.txt";
  test::run_heed_killed_after_first_write(
      "translate " + kModel + " -q " + base + "-o '" + partial.string() + "' --resume", partial);
  const std::string finished = sampled(base + "-o '" + partial.string() + "' --resume");
  CHECK(read_file(partial) == single);
  // Resuming with another seed would mix two runs: refused, naming the seed.
  const auto other = run_heed("translate " + kModel + " -q " + base + "--seed 6 -o '" +
                              partial.string() + "' --resume");
  CHECK(other.exit_code == 2);
  CHECK(other.err.find("seed") != std::string::npos);
}

TEST_CASE("sampling and processor flags: settings that cannot apply exit 2 naming the flag",
          "[sampling]") {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"--top-k 5", "--top-k"},
      {"--top-p 0.5", "--top-p"},
      {"--temperature 0.5", "--temperature"},
      {"--seed 3", "--seed"},
      {"--sampling --beam-size 4", "--beam-size"},
      {"--sampling --top-p 0", "--top-p"},
      {"--sampling --top-p 1.5", "--top-p"},
      {"--sampling --temperature 0", "--temperature"},
      {"--sampling --temperature nan", "--temperature"},
      {"--sampling --top-k -1", "--top-k"},
      {"--repetition-penalty 0", "--repetition-penalty"},
      {"--repetition-penalty -1.5", "--repetition-penalty"},
      {"--no-repeat-ngram-size -2", "--no-repeat-ngram-size"},
      {"--min-length 3 --min-new-tokens 2", "--min-"},
      {"--sampling --no-sampling", "sampling"},
  };
  for (const auto &[args, flag] : cases) {
    const auto r = run_heed("translate " + kModel + " " + args + " 'A dog runs.'");
    INFO(args << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(flag) != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("processor flags change translations; min-new-tokens lengthens them", "[sampling]") {
  const fs::path dir = test::write_mixed_corpus("processor-flags", 60, 43);
  const std::string input = "--beam-size 1 -i '" + (dir / "corpus.txt").string() + "' ";
  const std::string plain = sampled(input);
  CHECK(sampled(input + "--no-repeat-ngram-size 1") != plain);
  CHECK(sampled(input + "--repetition-penalty 0.5") != plain);
  CHECK(sampled(input + "--repetition-penalty 1") == plain);
  // Every translation of at least 12 tokens (EOS excluded): jsonl says.
  const auto r =
      run_heed("translate " + kModel + " -q --format jsonl --min-new-tokens 12 " + input);
  REQUIRE(r.exit_code == 0);
  for (const auto &line : test::split_lines(r.out)) {
    const auto j = nlohmann::json::parse(line);
    const auto &tokens = j["tokens"];
    if (!tokens.empty())
      CHECK(tokens.size() >= 12);
  }
}

TEST_CASE("sampling and processors from generation_config.json, and beam sampling warned",
          "[sampling]") {
  const fs::path model = test::copy_fixture("tiny-joint", "tiny-joint-sampling");
  const std::string m = "-m '" + model.string() + "' -q ";
  const fs::path dir = test::write_mixed_corpus("sampling-config", 40, 44);
  const std::string input = "-i '" + (dir / "corpus.txt").string() + "' ";
  const auto search = run_heed("translate " + m + "--beam-size 1 " + input);
  REQUIRE(search.exit_code == 0);
  // do_sample with num_beams 4 (beam sampling): warned, naming the field;
  // heed samples with one beam.
  test::replace_in_file(model / "generation_config.json", "\"num_beams\": 4",
                        "\"num_beams\": 4, \"do_sample\": true, \"top_k\": 5");
  const auto warned = run_heed("translate -m '" + model.string() + "' " + input);
  INFO(warned.err);
  REQUIRE(warned.exit_code == 0);
  CHECK(warned.err.find("do_sample") != std::string::npos);
  const auto by_flags =
      run_heed("translate " + m + "--sampling --top-k 5 --seed 0 --beam-size 1 " + input);
  REQUIRE(by_flags.exit_code == 0);
  CHECK(warned.out == by_flags.out);
  CHECK(warned.out != search.out);
  // --no-sampling turns the config's sampling off.
  const auto off = run_heed("translate " + m + "--no-sampling --beam-size 1 " + input);
  REQUIRE(off.exit_code == 0);
  CHECK(off.out == search.out);
}

TEST_CASE("a translation cut by a length limit is marked, and the run says how many",
          "[sampling][limits]") {
  const fs::path dir = test::write_mixed_corpus("truncation", 20, 45);
  const std::string input = "--beam-size 1 -i '" + (dir / "corpus.txt").string() + "' ";
  // Every line but the blank one is cut at 2 tokens.
  const auto cut = run_heed("translate " + kModel + " --format jsonl --max-new-tokens 2 " + input);
  INFO(cut.err);
  REQUIRE(cut.exit_code == 0);
  size_t marked = 0, lines = 0;
  for (const auto &line : test::split_lines(cut.out)) {
    const auto j = nlohmann::json::parse(line);
    ++lines;
    if (j["tokens"].empty())
      continue;                   // the blank line
    if (!j.contains("sentences")) // (the long line: 20 parts of 2 tokens each)
      CHECK(j["tokens"].size() == 2u);
    CHECK(j.value("truncated", false));
    if (!j.contains("sentences")) {
      CHECK(j.value("length_limit", 0) == 2);
      CHECK(j.value("limited_by", "") == "max_new_tokens");
    }
    marked += j.value("truncated", false) ? 1 : 0;
  }
  CHECK(lines == 23u);
  CHECK(marked == 21u);
  CHECK(cut.err.find("warning: 21 lines reached the length limit") != std::string::npos);
  CHECK(cut.err.find("line 3: the translation reached") == std::string::npos);
  // --verbose names each line too (the first ten, then a count, as all warnings).
  const auto named = run_heed("translate " + kModel + " --verbose --max-new-tokens 2 " + input);
  REQUIRE(named.exit_code == 0);
  CHECK(named.err.find("line 3: the translation reached the length limit and may be cut") !=
        std::string::npos);
  // Without a cut, no mark and no warning.
  const auto free =
      run_heed("translate " + kModel + " --format jsonl --max-new-tokens 100 " + "'A dog.'");
  REQUIRE(free.exit_code == 0);
  CHECK(free.out.find("truncated") == std::string::npos);
  CHECK(free.err.find("length limit") == std::string::npos);
  // A limit above the model's positions is said once, naming the field.
  const auto big = run_heed("translate " + kModel + " --max-new-tokens 5000 'A dog.'");
  REQUIRE(big.exit_code == 0);
  CHECK(big.err.find("max_new_tokens (5000) is more than the model can generate: its 128 "
                     "positions allow 128 tokens") != std::string::npos);
  const auto by_ratio =
      run_heed("translate " + kModel + " --format jsonl --max-length-ratio 0.2 'A dog runs fast.'");
  REQUIRE(by_ratio.exit_code == 0);
  const auto r = nlohmann::json::parse(by_ratio.out);
  CHECK(r.value("limited_by", "") == "max_length_ratio");
  CHECK(r["tokens"].size() == r.value("length_limit", 0u));
}

TEST_CASE("word scores: Marian's field in text and n-best, aligned lists in jsonl",
          "[word_scores]") {
  const auto text = run_heed("translate " + kModel + " --word-scores 'A dog runs.' 'Hello'");
  INFO(text.err);
  REQUIRE(text.exit_code == 0);
  const auto lines = test::split_lines(text.out);
  REQUIRE(lines.size() == 2u);
  const auto jsonl = run_heed("translate " + kModel +
                              " --word-scores --format jsonl --beam-size 3 --n-best 2 "
                              "'A dog runs.' 'Hello'");
  REQUIRE(jsonl.exit_code == 0);
  const auto objects = test::split_lines(jsonl.out);
  REQUIRE(objects.size() == 2u);
  for (const auto &line : objects) {
    const auto j = nlohmann::json::parse(line);
    for (const auto &h : j["n_best"]) {
      REQUIRE(h["token_scores"].size() == h["tokens"].size());
      REQUIRE(h["pieces"].size() == h["tokens"].size());
      CHECK(h["pieces"].back() == "</s>");
    }
  }
  // Text: "TRANSLATION ||| WordScores= S1 S2 ...", one score per token.
  const auto first = nlohmann::json::parse(
      run_heed("translate " + kModel + " --word-scores --format jsonl 'A dog runs.'").out);
  const auto field = lines[0].substr(lines[0].find(" ||| WordScores="));
  size_t numbers = 0;
  for (size_t at = field.find(' ', 5); at != std::string::npos; at = field.find(' ', at + 1))
    ++numbers;
  CHECK(numbers == first["tokens"].size());
  // n-best lines keep Marian's field order: the word scores before F0=.
  const auto nbest =
      run_heed("translate " + kModel + " --word-scores --beam-size 2 --n-best 2 'A dog runs.'");
  REQUIRE(nbest.exit_code == 0);
  for (const auto &line : test::split_lines(nbest.out))
    CHECK(line.find(" ||| WordScores= -") < line.find(" ||| F0= "));
}

TEST_CASE("target prefixes: one for all lines, one per line from a file, kept in the output",
          "[prefix]") {
  const std::string args = "translate " + kModel + " -q --beam-size 1 ";
  const auto one = run_heed(args + "--format jsonl --target-prefix 'Ein Hund' 'A dog runs.'");
  INFO(one.err);
  REQUIRE(one.exit_code == 0);
  const auto plain = run_heed(args + "--format jsonl 'A dog runs.'");
  const auto j = nlohmann::json::parse(one.out), p = nlohmann::json::parse(plain.out);
  CHECK(j["tokens"] != p["tokens"]);

  // A file of prefixes: the same as giving each line's prefix alone; empty
  // lines mean none; shards and a resume after SIGKILL give the same output.
  const fs::path dir = test::write_mixed_corpus("prefix-file", 300, 46);
  const auto corpus = test::split_lines(read_file(dir / "corpus.txt"));
  std::string prefixes;
  for (size_t i = 0; i < corpus.size(); ++i)
    prefixes += (i % 3 == 0 ? "" : i % 3 == 1 ? "Ein" : "Zwei Männer") + std::string("\n");
  std::ofstream(dir / "prefixes.txt") << prefixes;
  const std::string base = args + "--window 32 --batch-size 8 -i '" +
                           (dir / "corpus.txt").string() + "' --target-prefix-file '" +
                           (dir / "prefixes.txt").string() + "' ";
  const auto all = run_heed(base);
  REQUIRE(all.exit_code == 0);
  const auto lines = test::split_lines(all.out);
  REQUIRE(lines.size() == corpus.size());
  for (size_t i : {size_t{4}, size_t{5}, size_t{6}}) {
    const std::string prefix = i % 3 == 0 ? "" : i % 3 == 1 ? "Ein" : "Zwei Männer";
    const auto alone = run_heed(args + (prefix.empty() ? "" : "--target-prefix '" + prefix + "' ") +
                                "'" + corpus[i] + "'");
    CHECK(alone.out == lines[i] + "\n");
  }
  std::string merge_args;
  for (int k = 0; k < 2; ++k) {
    const fs::path part = dir / ("part" + std::to_string(k));
    REQUIRE(run_heed(base + "--shard " + std::to_string(k) + "/2 -o '" + part.string() + "'")
                .exit_code == 0);
    merge_args += " '" + part.string() + "'";
  }
  CHECK(run_heed("merge-shards" + merge_args).out == all.out);
  // Killed as soon as its first window is written, then resumed.
  const fs::path partial = dir / "partial.txt";
  test::run_heed_killed_after_first_write(base + "-o '" + partial.string() + "' --resume", partial);
  REQUIRE(run_heed(base + "-o '" + partial.string() + "' --resume").exit_code == 0);
  CHECK(read_file(partial) == all.out);
}

TEST_CASE("target prefixes: a file that does not match the input, or two sources, is refused",
          "[prefix]") {
  const fs::path dir = test::write_mixed_corpus("prefix-errors", 5, 47);
  const std::string input = "-i '" + (dir / "corpus.txt").string() + "' ";
  std::ofstream(dir / "short.txt") << "Ein\n";
  std::ofstream(dir / "long.txt") << std::string(20, '\n');
  std::ofstream(dir / "bad.txt") << "Ein\n\xff\xfe\n\n\n\n\n\n";
  const auto shorter = run_heed("translate " + kModel + " -q " + input + "--target-prefix-file '" +
                                (dir / "short.txt").string() + "'");
  CHECK(shorter.exit_code == 4);
  CHECK(shorter.err.find("short.txt: ends after line 1, but the input has a line 2") !=
        std::string::npos);
  const auto longer = run_heed("translate " + kModel + " -q " + input + "--target-prefix-file '" +
                               (dir / "long.txt").string() + "'");
  CHECK(longer.exit_code == 4);
  CHECK(longer.err.find("long.txt: has more lines than the input's 8") != std::string::npos);
  const auto bad = run_heed("translate " + kModel + " -q " + input + "--target-prefix-file '" +
                            (dir / "bad.txt").string() + "'");
  CHECK(bad.exit_code == 4);
  CHECK(bad.err.find("bad.txt: line 2: not UTF-8 text") != std::string::npos);
  const auto both = run_heed("translate " + kModel + " -q " + input + "--target-prefix Ein " +
                             "--target-prefix-file '" + (dir / "short.txt").string() + "'");
  CHECK(both.exit_code == 2);
  const auto onto =
      run_heed("translate " + kModel + " -q " + input + "--target-prefix-file '" +
               (dir / "short.txt").string() + "' -o '" + (dir / "short.txt").string() + "'");
  CHECK(onto.exit_code == 2);
  CHECK(read_file(dir / "short.txt") == "Ein\n");
}

TEST_CASE("target prefixes: word scores and alignments cover the prefix tokens", "[prefix]") {
  const auto r = run_heed("translate " + kModel +
                          " -q --beam-size 2 --format jsonl --word-scores --alignment hard "
                          "--target-prefix 'Ein Hund' 'A dog runs.'");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  REQUIRE(j["tokens"].size() >= 3);
  CHECK(j["token_scores"].size() == j["tokens"].size());
  CHECK(j["pieces"][0] == "▁Ein");
  CHECK(!j["alignment"].get<std::string>().empty());
}
