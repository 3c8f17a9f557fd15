// What new users trip over (issue 13), each through the command line as they
// meet it: the terminal, silently ignored settings, defaults, finding one's
// way, Marian and CTranslate2 habits, n-best lists, consistent errors, honest
// summaries and the small wrongs.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "app/options.h"
#include "app/suggest.h"
#include "heed/outputs/nbest_line.h"
#include "test_support.h"

using heed::test::make_corpus;
using heed::test::read_file;
using heed::test::run_heed;
using heed::test::split_lines;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kModelDir = std::string(HEED_TEST_DATA) + "/tiny-joint";
const std::string kModel = "-m '" + kModelDir + "'";

std::string quoted(const fs::path &p) { return "'" + p.string() + "'"; }

int count_of(const std::string &text, const std::string &what) {
  int n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace

// ---- 1. The progress bar and the translations share a terminal ----

TEST_CASE("on a terminal, no translation shares a line with the progress bar", "[cli][terminal]") {
  const fs::path dir = heed::test::temp_dir() / "bar-and-output";
  fs::create_directories(dir);
  std::ofstream(dir / "in.txt") << make_corpus(300, 1);
  const auto expected = run_heed("translate " + kModel + " -q -i " + quoted(dir / "in.txt"));
  REQUIRE(expected.exit_code == 0);

  // stdout and stderr on one terminal, small windows: many redraws between outputs.
  const auto r = heed::test::run_heed_on_terminal(
      {"translate", "-m", kModelDir, "-i", (dir / "in.txt").string(), "--window", "16"},
      {false, true, true});
  REQUIRE(r.exit_code == 0);
  CHECK(r.screen.find("sent/s") != std::string::npos); // the bar was drawn
  std::vector<std::string> translations;
  for (const auto &line : heed::test::visible_lines(r.screen)) {
    if (line.find("sent/s") != std::string::npos || line.rfind("heed: ", 0) == 0)
      continue; // the bar (alone on its line) or the summary
    translations.push_back(line);
  }
  CHECK(translations == split_lines(expected.out));
}

TEST_CASE("a person typing at the terminal gets no bar; -q silences all but errors",
          "[cli][terminal]") {
  const auto typed = heed::test::run_heed_on_terminal({"translate", "-m", kModelDir},
                                                      {true, true, true}, "Two dogs.\nHello\n");
  CHECK(typed.exit_code == 0);
  CHECK(typed.screen.find("sent/s") == std::string::npos);
  const auto expected = run_heed("translate " + kModel + " 'Two dogs.' 'Hello'");
  for (const auto &line : split_lines(expected.out))
    CHECK(typed.screen.find(line) != std::string::npos);

  // -q on a terminal: no bar, no summary, no warning about the repaired line.
  const fs::path in = heed::test::temp_dir() / "quiet-in.txt";
  std::ofstream(in, std::ios::binary) << "bad \xff byte\n" << make_corpus(40, 2);
  const auto quiet = heed::test::run_heed_on_terminal(
      {"translate", "-m", kModelDir, "-q", "-i", in.string(), "-o", "/dev/null"},
      {false, false, true});
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.screen.empty());
  const auto loud = heed::test::run_heed_on_terminal(
      {"translate", "-m", kModelDir, "-i", in.string(), "-o", "/dev/null"}, {false, false, true});
  CHECK(loud.screen.find("line 1: 1 invalid UTF-8 byte(s) replaced") != std::string::npos);
  CHECK(loud.screen.find("sent/s") != std::string::npos);
  // A warning is never glued to the bar either.
  for (const auto &line : heed::test::visible_lines(loud.screen))
    if (line.find("warning") != std::string::npos)
      CHECK(line.rfind("heed: warning: ", 0) == 0);
}

// ---- 2. Nothing the user asked for is dropped silently ----

TEST_CASE("settings that would be ignored are refused or warned about, naming them", "[cli]") {
  struct Case {
    std::string args, err;
  };
  const Case refused[] = {
      {"--attention-layers 7 'Hello'",
       "heed: error: --attention-layers applies only with --attention or --alignment\n"},
      {"--attention-heads mean 'Hello'",
       "heed: error: --attention-heads applies only with --attention or --alignment\n"},
      {"--attention-kind encoder --alignment hard 'Hello'",
       "heed: error: --attention-kind applies only with --attention (--alignment always uses "
       "cross-attention)\n"},
      {"--max-length 20 --max-new-tokens 5 'Hello'", ""},
      {"--length-penalty 0.5 --normalize 0.6 'Hello'", ""},
      {"--window 64 --maxi-batch 2 'Hello'", ""},
      {"--maxi-batch 2 --batch-type tokens 'Hello'",
       "heed: error: --maxi-batch counts batches of sentences; with --batch-type tokens give "
       "--window LINES\n"},
      {"--progress -q 'Hello'", "heed: error: --progress and --quiet contradict each other\n"},
  };
  for (const auto &c : refused) {
    const auto r = run_heed("translate " + kModel + " " + c.args);
    INFO(c.args << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    if (!c.err.empty())
      CHECK(r.err == c.err);
  }
  const auto page = run_heed("attention " + kModel + " 'Hello' -i /dev/null --html x.html");
  CHECK(page.exit_code == 2);
  CHECK(page.err == "heed: error: give texts or an input file, not both\n");

  // Settings greedy search has no use for are named.
  const auto greedy = run_heed("translate " + kModel +
                               " --beam-size 1 --length-penalty 2 --early-stopping true "
                               "'Hello'");
  CHECK(greedy.exit_code == 0);
  CHECK_THAT(greedy.err, Catch::Contains("heed: warning: length_penalty has no effect with "
                                         "greedy search (beam size 1)"));
  CHECK_THAT(greedy.err, Catch::Contains("heed: warning: early_stopping has no effect"));
}

TEST_CASE("generation settings heed does not implement are named, not dropped", "[cli]") {
  const fs::path model = heed::test::copy_fixture("tiny-joint", "unsupported-generation");
  json generation = json::parse(read_file(model / "generation_config.json"));
  generation["diversity_penalty"] = 0.5;
  generation["suppress_tokens"] = {5};
  generation["top_k"] = 5;                // a sampling setting, without do_sample: no effect
  generation["repetition_penalty"] = 1.0; // transformers' default: no effect, no word
  generation["num_beam_groups"] = 1;
  std::ofstream(model / "generation_config.json", std::ios::trunc) << generation.dump(2);
  const std::string file = (model / "generation_config.json").string();
  const std::string tail =
      " is not implemented by heed and is ignored: translations may differ from transformers' "
      "generate()\n";
  const auto r = run_heed("translate -m " + quoted(model) + " 'Hello'");
  CHECK(r.exit_code == 0);
  CHECK(r.err == "heed: warning: " + file + ": diversity_penalty (0.5)" + tail +
                     "heed: warning: " + file + ": suppress_tokens ([5])" + tail);
  // The same model's translation is the plain one's: the fields change nothing.
  CHECK(r.out == run_heed("translate " + kModel + " 'Hello'").out);
  const auto quiet = run_heed("translate -q -m " + quoted(model) + " 'Hello'");
  CHECK(quiet.err.empty());
  // heed info lists them.
  CHECK_THAT(
      run_heed("info -m " + quoted(model)).out,
      Catch::Contains("generation.not_implemented: [\"diversity_penalty (0.5)\",\"suppress_tokens "
                      "([5])\"]\n"));
  // The shipped fixture sets none of them.
  CHECK(run_heed("translate " + kModel + " 'Hello'").err.empty());
}

TEST_CASE("sharding applies to sentences given as arguments like to lines (--shard)", "[cli]") {
  const auto all = run_heed("translate " + kModel + " 'Two dogs.' 'Hello' 'A cat.'");
  REQUIRE(all.exit_code == 0);
  const auto lines = split_lines(all.out);
  REQUIRE(lines.size() == 3);
  const auto second = run_heed("translate " + kModel + " --shard 1/2 'Two dogs.' 'Hello' 'A cat.'");
  REQUIRE(second.exit_code == 0);
  CHECK(second.out == lines[1] + "\n");
}

// ---- 3. Defaults that surprise ----

TEST_CASE("every option's help states its default", "[cli]") {
  for (const std::string sub :
       {"translate", "attention", "score", "info", "bench", "convert", "merge-shards"}) {
    const auto help = run_heed(sub + " --help");
    REQUIRE(help.exit_code == 0);
    // Options start a line with "  -"; their descriptions may wrap onto lines
    // that start with more spaces.
    std::vector<std::string> entries;
    for (const auto &line : split_lines(help.out)) {
      if (line.rfind("  -", 0) == 0)
        entries.push_back(line);
      else if (!entries.empty() && line.rfind("      ", 0) == 0)
        entries.back() += line;
      else if (!entries.empty() && !line.empty() && line[0] != ' ')
        entries.emplace_back(); // a new section ends the last entry
    }
    for (const auto &entry : entries) {
      if (entry.empty() || entry.find("--help") != std::string::npos ||
          entry.find("REQUIRED") != std::string::npos)
        continue;
      // A flag takes no value: its default is "off". Options show a value name.
      const std::string names = entry.substr(0, entry.find("  ", 2));
      const bool takes_value = std::regex_search(names, std::regex(" [A-Z\\[]"));
      INFO(sub << ": " << entry);
      if (takes_value)
        CHECK(entry.find("default") != std::string::npos);
    }
  }
  CHECK_THAT(run_heed("attention --help").out, Catch::Contains("(default: all)"));
  CHECK_THAT(run_heed("translate --help").out, Catch::Contains("(default: cross)"));
}

TEST_CASE("token batches default to a token-sized budget", "[cli]") {
  heed::TranslationOptions o;
  heed::app::ComputeFlags flags;
  flags.batch_type = "tokens";
  heed::app::apply_compute_flags(flags, o);
  CHECK(o.batch_size == 4096);
  flags.batch_type = "sentences";
  heed::app::apply_compute_flags(flags, o);
  CHECK(o.batch_size == 32);
  flags.batch_size = 7;
  heed::app::apply_compute_flags(flags, o);
  CHECK(o.batch_size == 7);
  CHECK_THAT(run_heed("translate --help").out, Catch::Contains("4096 tokens"));
}

// ---- 4. Finding one's way ----

TEST_CASE("version, heed alone, and did-you-mean (--version)", "[cli]") {
  const auto version = run_heed("--version");
  CHECK(version.exit_code == 0);
  CHECK_THAT(version.out, Catch::StartsWith("heed 0."));
  CHECK_THAT(version.out, Catch::Contains("\noneDNN: 2."));
  CHECK_THAT(version.out, Catch::Contains("\nCPU ISA (oneDNN dispatch): "));
  CHECK_THAT(version.out, Catch::Contains("\nbuild type: "));
  CHECK(version.out.find("unknown") == std::string::npos);

  const auto alone = run_heed("");
  CHECK(alone.exit_code == 0);
  CHECK(alone.err.empty());
  CHECK_THAT(alone.out, Catch::Contains("translate"));
  CHECK_THAT(alone.out, Catch::Contains("heed translate --help"));
  CHECK_THAT(alone.out, Catch::Contains("--beam-size")); // the main options

  const auto sub = run_heed("tranlsate 'Hello'");
  CHECK(sub.exit_code == 2);
  CHECK(
      sub.err ==
      "heed: error: unknown subcommand 'tranlsate' (did you mean translate?) (see heed --help)\n");
  const auto flag = run_heed("translate " + kModel + " --beam 4 'Hello'");
  CHECK(flag.exit_code == 2);
  CHECK_THAT(flag.err, Catch::Contains("(did you mean --beam-size?) (see heed translate --help)"));
  const auto typo = run_heed("translate " + kModel + " --max-lenght-ratio 2 'Hello'");
  CHECK_THAT(typo.err, Catch::Contains("(did you mean --max-length-ratio?)"));
  const auto top = run_heed("--verison");
  CHECK(top.exit_code == 2);
  CHECK(top.err == "heed: error: The following argument was not expected: --verison (did you "
                   "mean --version?) (see heed --help)\n");
  const auto far = run_heed("translate " + kModel + " --frobnicate 'Hello'");
  CHECK(far.exit_code == 2);
  CHECK(far.err.find("did you mean") == std::string::npos);

  using heed::app::closest_name;
  CHECK(closest_name("scroe", {"translate", "score", "info"}) == "score");
  CHECK(closest_name("--thread", {"--threads", "--shard"}) == "--threads");
  CHECK(closest_name("-x", {"-i", "-o", "-q"}).empty());
  CHECK(closest_name("inof", {"info", "bench"}) == "info");
}

// ---- 5. Habits from Marian and CTranslate2 ----

TEST_CASE("Marian and CTranslate2 spellings are aliases with the same effect", "[cli]") {
  const std::string base = "translate " + kModel + " --beam-size 4 'Two dogs play.' 'Hello' ";
  struct Pair {
    std::string alias, canonical;
  };
  const Pair pairs[] = {
      {"--n-best 2 --normalize 0.6", "--n-best 2 --length-penalty 0.6"},
      {"--n-best 2 --normalize", "--n-best 2 --length-penalty 1"},
      {"--num-hypotheses 3", "--n-best 3"},
      {"--max-length-factor 0.5", "--max-length-ratio 0.5"},
      {"--max-decoding-length 2", "--max-new-tokens 2"},
      {"--mini-batch 1 --maxi-batch 1", "--batch-size 1 --window 1"},
      {"--cpu-threads 1", "--threads 1"},
  };
  for (const auto &p : pairs) {
    const auto alias = run_heed(base + p.alias);
    const auto canonical = run_heed(base + p.canonical);
    INFO(p.alias << "\n" << alias.err);
    CHECK(alias.exit_code == 0);
    CHECK(canonical.exit_code == 0);
    CHECK(alias.out == canonical.out);
  }
  // The length penalty changes the n-best scores: the comparison above can fail.
  CHECK(run_heed(base + "--n-best 2 --normalize 0.6").out !=
        run_heed(base + "--n-best 2 --normalize 0").out);
  const fs::path in = heed::test::temp_dir() / "quiet-translation.txt";
  std::ofstream(in, std::ios::binary) << "bad \xff byte\nHello\n";
  const auto quiet = run_heed("translate " + kModel + " --quiet-translation -i " + quoted(in));
  CHECK(quiet.exit_code == 0);
  CHECK(quiet.err.empty());
  // Marian's --word-scores: its field after the translation, one score per token.
  const auto word_scores = run_heed("translate " + kModel + " --word-scores 'Hello'");
  CHECK(word_scores.exit_code == 0);
  CHECK_THAT(word_scores.out, Catch::Contains(" ||| WordScores= -"));
  const auto help = run_heed("translate --help").out;
  for (const std::string alias :
       {"--normalize", "--max-length-factor", "--mini-batch", "--maxi-batch", "--cpu-threads",
        "--quiet-translation", "--num-hypotheses", "--max-decoding-length"})
    CHECK(help.find(alias) != std::string::npos);
}

// ---- 6. n-best lists in Marian's format ----

TEST_CASE("n-best lines are Marian's four fields: index, translation, F0= log-prob, score",
          "[cli][n-best]") {
  const std::string args = "translate " + kModel +
                           " --beam-size 4 --n-best 3 --length-penalty 1.3 'Two dogs play.' '' "
                           "'Hello'";
  const auto text = run_heed(args);
  const auto jsonl = run_heed(args + " --format jsonl");
  REQUIRE(text.exit_code == 0);
  REQUIRE(jsonl.exit_code == 0);
  const auto lines = split_lines(text.out);
  const auto objects = split_lines(jsonl.out);
  REQUIRE(lines.size() == 9);
  REQUIRE(objects.size() == 3);
  // INDEX ||| TRANSLATION ||| F0= LOG_PROB ||| SCORE
  const std::regex format(R"(^(\d+) \|\|\| (.*) \|\|\| F0= (\S+) \|\|\| (\S+)$)");
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO(lines[i]);
    std::smatch m;
    REQUIRE(std::regex_match(lines[i], m, format));
    const size_t input = i / 3, rank = i % 3;
    CHECK(std::stoul(m[1]) == input);
    CHECK(heed::nbest_line_index(lines[i]) == static_cast<int64_t>(input));
    const json h = json::parse(objects[input])["n_best"][rank];
    CHECK(m[2] == h["translation"].get<std::string>());
    const double log_prob = std::stod(m[3]), score = std::stod(m[4]);
    CHECK(score == Approx(h["score"].get<double>()));
    // The score is the log-probability normalised by length^length_penalty.
    const auto length = static_cast<double>(h["tokens"].size());
    if (length > 0)
      CHECK(score == Approx(log_prob / std::pow(length, 1.3)).epsilon(1e-5));
    else
      CHECK(log_prob == 0);
  }
  CHECK(heed::nbest_line_index("3 ||| x ||| F0= -1.5 ||| -0.5") == 3);
  CHECK(heed::nbest_line_index("3 ||| x ||| 0-0 ||| F0= -1.5 ||| -0.5") == 3);
  CHECK_FALSE(heed::nbest_line_index("2008 ||| 0-0 1-1"));
  CHECK_FALSE(heed::nbest_line_index("x ||| y ||| F0= -1 ||| -1"));
  CHECK(heed::format_nbest_line(7, "Hallo", nullptr, -1.5f, -0.75f) ==
        "7 ||| Hallo ||| F0= -1.5 ||| -0.75");
}

TEST_CASE("merge-shards detects n-best lists and checks indices", "[cli][n-best]") {
  const fs::path dir = heed::test::temp_dir() / "nbest-shards";
  fs::create_directories(dir);
  const std::string corpus = "\n" + make_corpus(21, 4);
  std::ofstream(dir / "in.txt") << corpus;
  for (const std::string format : {"text", "jsonl"}) {
    // One sentence per batch: scores then do not depend on which sentences
    // share a batch, and the merged lists equal the single run's to the digit.
    const std::string args = "translate " + kModel +
                             " -q --batch-size 1 --beam-size 3 --n-best 2 --format " + format + " ";
    const auto single = run_heed(args + "-i " + quoted(dir / "in.txt"));
    REQUIRE(single.exit_code == 0);
    std::vector<fs::path> parts;
    for (int k = 0; k < 3; ++k) {
      parts.push_back(dir / (format + "-part" + std::to_string(k)));
      REQUIRE(
          run_heed(args + "--shard " + std::to_string(k) + "/3 -o " + quoted(parts.back()), corpus)
              .exit_code == 0);
    }
    const auto merged = run_heed("merge-shards " + quoted(parts[0]) + " " + quoted(parts[1]) + " " +
                                 quoted(parts[2]));
    INFO(format << ": " << merged.err);
    REQUIRE(merged.exit_code == 0);
    CHECK(merged.out == single.out);

    // Out of order: the indices say which shard a file is.
    const auto swapped = run_heed("merge-shards " + quoted(parts[1]) + " " + quoted(parts[0]) +
                                  " " + quoted(parts[2]));
    CHECK(swapped.exit_code == 4);
    CHECK(swapped.err == "heed: error: " + parts[1].string() +
                             ": line 1 is input 1 (given as shard 0), which shard 1 of 3 holds: "
                             "shard outputs given out of order or twice?\n");
    // A copy of shard 0 given as shard 1 (another file, same content).
    fs::copy_file(parts[0], dir / (format + "-copy"), fs::copy_options::overwrite_existing);
    const auto copied = run_heed("merge-shards " + quoted(parts[0]) + " " +
                                 quoted(dir / (format + "-copy")) + " " + quoted(parts[2]));
    CHECK(copied.exit_code == 4);
    CHECK_THAT(copied.err, Catch::Contains("line 1 is input 0 (given as shard 1)"));
  }
  // The same file twice, in any format.
  const auto twice =
      run_heed("merge-shards " + quoted(dir / "text-part0") + " " + quoted(dir / "text-part0"));
  CHECK(twice.exit_code == 4);
  CHECK(twice.err ==
        "heed: error: " + (dir / "text-part0").string() + ": given twice (as shard 0 and 1)\n");
  // Formats of one run agree.
  std::ofstream(dir / "plain") << "Hallo\n";
  const auto mixed =
      run_heed("merge-shards " + quoted(dir / "text-part0") + " " + quoted(dir / "plain"));
  CHECK(mixed.exit_code == 4);
  CHECK_THAT(mixed.err, Catch::Contains("is plain text but"));
}

// ---- 7. Consistent errors ----

TEST_CASE("outputs in a missing directory are refused alike, before any work", "[cli]") {
  const std::string missing = "/nonexistent-heed-dir/sub";
  const std::string reason = "cannot create: the directory " + missing +
                             " does not exist (heed creates no parent "
                             "directories)\n";
  struct Case {
    std::string args, path;
  };
  const Case cases[] = {
      {"translate " + kModel + " 'Hello' -o " + missing + "/out.txt", missing + "/out.txt"},
      {"translate " + kModel + " 'Hello' --attention " + missing + "/maps.npz",
       missing + "/maps.npz"},
      {"translate " + kModel + " 'Hello' --attention " + missing + "/maps.json",
       missing + "/maps.json"},
      {"translate " + kModel + " 'Hello' --attention " + missing + "/maps/", missing + "/maps/"},
      {"attention " + kModel + " 'Hello' --html " + missing + "/page.html", missing + "/page.html"},
      {"convert " + kModel + " --quantize int8 -o " + missing + "/q8", missing + "/q8"},
      {"score " + kModel + " --source /dev/null --target /dev/null -o " + missing + "/s.txt",
       missing + "/s.txt"},
  };
  for (const auto &c : cases) {
    const auto r = run_heed(c.args);
    INFO(c.args);
    CHECK(r.exit_code == 4);
    CHECK(r.out.empty()); // nothing translated first
    CHECK(r.err == "heed: error: " + c.path + ": " + reason);
  }
  // Reading errors give the system's reason.
  const auto input = run_heed("translate " + kModel + " -i /nonexistent-heed-dir/in.txt");
  CHECK(input.exit_code == 4);
  CHECK(input.err == "heed: error: /nonexistent-heed-dir/in.txt: cannot open for reading: No such "
                     "file or directory\n");
  // The same mistake gets the same exit code whichever way the model is named.
  const auto by_flag = run_heed("info -m /nowhere");
  const auto by_env = run_heed("info", "", "export HEED_MODEL=/nowhere;");
  CHECK(by_flag.exit_code == 3);
  CHECK(by_env.exit_code == 3);
  CHECK(by_env.err == "heed: model error: HEED_MODEL=/nowhere is not a directory (unset it to use "
                      "the shipped model, or pass -m DIR)\n");
}

// ---- 8. Honest summaries ----

TEST_CASE("after --resume the summary counts this run's lines and the kept ones", "[cli]") {
  const fs::path dir = heed::test::temp_dir() / "resume-summary";
  fs::create_directories(dir);
  std::ofstream(dir / "in.txt") << make_corpus(100, 5);
  const std::string args = "translate " + kModel + " --window 16 -i " + quoted(dir / "in.txt") +
                           " -o " + quoted(dir / "out.txt");
  const auto full = run_heed(args);
  REQUIRE(full.exit_code == 0);
  // (After the warning that counts lines cut by the length limit.)
  CHECK_THAT(full.err, Catch::Contains("\nheed: 100 lines, "));
  const auto lines = split_lines(read_file(dir / "out.txt"));
  REQUIRE(lines.size() == 100);
  // A run that fails on a full disk (RLIMIT_FSIZE: 1 KiB) leaves
  // the record of the run, which --resume needs; the output then gets what a
  // kill after 40 lines leaves.
  REQUIRE(run_heed(args, "", "trap '' XFSZ; ulimit -f 2;").exit_code == 4);
  {
    std::ofstream cut(dir / "out.txt", std::ios::trunc);
    for (int i = 0; i < 40; ++i)
      cut << lines[i] << '\n';
    cut << "partial li"; // a kill in the middle of a write
  }
  const auto resumed = run_heed(args + " --resume");
  REQUIRE(resumed.exit_code == 0);
  CHECK_THAT(resumed.err, Catch::Contains("resuming after 40 complete inputs"));
  CHECK_THAT(resumed.err,
             Catch::Contains("heed: 60 lines translated (40 complete ones kept from the earlier "
                             "run), "));
  CHECK(split_lines(read_file(dir / "out.txt")) == lines);
}

TEST_CASE("Ctrl-C ends with how many lines are complete, and --resume finishes the job",
          "[cli][slow]") {
  const fs::path dir = heed::test::temp_dir() / "interrupt";
  fs::create_directories(dir);
  std::ofstream(dir / "in.txt") << make_corpus(4000, 6);
  const std::string args =
      "translate " + kModel + " --beam-size 2 --window 32 -i " + quoted(dir / "in.txt") + " -o ";
  REQUIRE(run_heed(args + quoted(dir / "full.txt") + " -q").exit_code == 0);
  const fs::path out = dir / "out.txt", err = dir / "err.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string command =
        std::string("exec '") + HEED_BINARY + "' " + args + quoted(out) + " 2> " + quoted(err);
    execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char *>(nullptr));
    _exit(127);
  }
  // Interrupt once some windows are written.
  for (int i = 0; i < 600; ++i) {
    std::error_code ec;
    if (fs::exists(out, ec) && fs::file_size(out, ec) > 200)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  const std::string message = read_file(err);
  INFO(message);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  std::smatch m;
  const std::string text = message;
  REQUIRE(std::regex_search(text, m,
                            std::regex("heed: interrupted: " + out.string() +
                                       " holds the complete outputs of (\\d+) input lines; the "
                                       "same command with --resume translates the rest\n")));
  const auto complete = std::stoul(m[1]);
  const auto written = split_lines(read_file(out));
  CHECK(written.size() == complete);
  CHECK(complete < 4000);
  const auto full = split_lines(read_file(dir / "full.txt"));
  CHECK(std::equal(written.begin(), written.end(), full.begin()));

  const auto resumed = run_heed(args + quoted(out) + " --resume -q");
  CHECK(resumed.exit_code == 0);
  CHECK(read_file(out) == read_file(dir / "full.txt"));
}

TEST_CASE("warnings about bad input are capped, then counted", "[cli]") {
  const fs::path in = heed::test::temp_dir() / "junk.txt";
  {
    std::ofstream junk(in, std::ios::binary);
    for (int i = 0; i < 50; ++i)
      junk << "junk \xfe\xff line\n";
  }
  const auto r = run_heed("translate " + kModel + " -i " + quoted(in) + " -o /dev/null");
  CHECK(r.exit_code == 0);
  CHECK(count_of(r.err, "invalid UTF-8") == 10);
  CHECK_THAT(r.err, Catch::Contains("line 10: 2 invalid UTF-8 byte(s) replaced"));
  CHECK_THAT(r.err, Catch::Contains("heed: warning: more than 10 warnings: the rest are counted, "
                                    "not shown\n"));
  CHECK_THAT(r.err, Catch::Contains("heed: warning: 40 more warnings not shown\n"));
  CHECK(count_of(r.err, "\n") == 13); // 10 warnings, the notice, the count, the summary
}

TEST_CASE("a line refused by --strict leaves an existing output file as it was", "[cli]") {
  const fs::path dir = heed::test::temp_dir() / "strict-keeps";
  fs::create_directories(dir);
  std::ofstream(dir / "in.txt", std::ios::binary) << "Hello\nbad \xff\n";
  std::ofstream(dir / "out.txt") << "an earlier result\n";
  const auto r = run_heed("translate " + kModel + " --strict -q -i " + quoted(dir / "in.txt") +
                          " -o " + quoted(dir / "out.txt"));
  CHECK(r.exit_code == 4);
  CHECK(read_file(dir / "out.txt") == "an earlier result\n");
  // A model that fails to load leaves it too.
  const auto model = run_heed("translate -m /nowhere -i " + quoted(dir / "in.txt") + " -o " +
                              quoted(dir / "out.txt"));
  CHECK(model.exit_code == 3);
  CHECK(read_file(dir / "out.txt") == "an earlier result\n");
  // An empty input still gives an (empty) output file.
  const auto empty =
      run_heed("translate " + kModel + " -q -i /dev/null -o " + quoted(dir / "out.txt"));
  CHECK(empty.exit_code == 0);
  CHECK(read_file(dir / "out.txt").empty());
}

// ---- 9. Small wrongs ----

TEST_CASE("bench reads only the lines it uses", "[cli]") {
  // An endless input: reading it all would never end.
  const fs::path out = heed::test::temp_dir() / "bench-endless.txt";
  const std::string command = "yes 'Two dogs play.' | timeout 300 '" + std::string(HEED_BINARY) +
                              "' bench " + kModel +
                              " -i - --lines 3 --runs 1 --threads 1 --compute-type float32 "
                              "--settings 1x1 --max-new-tokens 4 > " +
                              quoted(out) + " 2>/dev/null";
  CHECK(std::system(command.c_str()) == 0);
  CHECK_THAT(read_file(out), Catch::Contains("input: 3 lines"));
  // Nothing to measure is an input error, not a crash.
  const auto empty = run_heed("bench " + kModel + " -i /dev/null");
  CHECK(empty.exit_code == 4);
  CHECK(empty.err == "heed: error: /dev/null: no lines to translate\n");
}

TEST_CASE("convert writes a model card of its own and drops the float model's files",
          "[cli][int8]") {
  const fs::path model = heed::test::copy_fixture("tiny-joint", "card-model");
  std::ofstream(model / "README.md") << "---\nlicense: cc-by-4.0\nlanguage: [en, de]\n---\n\n"
                                        "# tiny\n\nBLEU 99.9 with float32 weights.\n";
  std::ofstream(model / "training.log") << "epoch 1 loss 2.3\n";
  std::ofstream(model / "LICENSE") << "license terms\n";
  const fs::path out = model.parent_path() / "card-model-int8";
  fs::remove_all(out);
  const auto r = run_heed("convert -m " + quoted(model) + " --quantize int8 -o " + quoted(out));
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("not copied (they describe the float model; see README.md "
                                    "there): training.log"));
  CHECK_FALSE(fs::exists(out / "training.log"));
  CHECK(read_file(out / "LICENSE") == "license terms\n");
  CHECK(fs::exists(out / "vocab.json"));
  const std::string card = read_file(out / "README.md");
  CHECK_THAT(card, Catch::StartsWith("---\nlicense: cc-by-4.0\nlanguage: [en, de]\n---\n\n"
                                     "# int8 copy of card-model\n"));
  CHECK(card.find("BLEU 99.9") == std::string::npos);
  CHECK_THAT(card, Catch::Contains("heed convert --quantize int8"));
  CHECK(run_heed("translate -m " + quoted(out) + " 'Hello'").exit_code == 0);
}

TEST_CASE("with n-best the encoder's self-attention is written once per sentence",
          "[cli][attention]") {
  const fs::path dir = heed::test::temp_dir() / "nbest-encoder";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string args = "translate " + kModel +
                           " --beam-size 3 --n-best 3 --attention-kind all 'Two dogs play.' "
                           "'Hello' --attention ";
  REQUIRE(run_heed(args + quoted(dir / "maps/")).exit_code == 0);
  CHECK(fs::exists(dir / "maps" / "000000.encoder.npy"));
  CHECK_FALSE(fs::exists(dir / "maps" / "000000-1.encoder.npy"));
  CHECK(fs::exists(dir / "maps" / "000000-1.cross.npy"));
  CHECK(fs::exists(dir / "maps" / "000000-2.decoder.npy"));
  const json index = json::parse(read_file(dir / "maps" / "index.json"));
  REQUIRE(index["sentences"].size() == 6);
  for (const auto &s : index["sentences"]) {
    const json &encoder = s["maps"]["encoder"];
    CHECK(encoder["file"] == (s["index"] == 0 ? "000000.encoder.npy" : "000001.encoder.npy"));
    CHECK(encoder.contains("stored_with_hypothesis") == (s["hypothesis"] != 0));
  }
  REQUIRE(run_heed(args + quoted(dir / "maps.json")).exit_code == 0);
  const json document = json::parse(read_file(dir / "maps.json"));
  for (const auto &s : document["sentences"])
    CHECK(s["weights"].contains("encoder") == (s["hypothesis"] == 0));
}
