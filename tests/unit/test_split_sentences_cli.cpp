// --split-sentences as a user runs it: one output line per input line, the
// JSON lines "sentences" list with code-point spans, n-best lists, alignments
// and attention maps placed on the whole line, over-long lines split with a
// warning, `heed score` refusing the flag, and single-sentence corpora
// translated byte for byte as without the flag.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "heed/core/error.h"
#include "heed/text/sentence_splitter.h"
#include "heed/tools/benchmark.h"
#include "test_support.h"

using heed::test::run_heed;
namespace fs = std::filesystem;

namespace {

// The shipped ensemble's first member: one model, half the time of the ensemble.
const std::string kShippedDir = std::string(HEED_TEST_DATA) + "/../../models/multi30k-en-de/a";
const std::string kShipped = "-m '" + kShippedDir + "'";
const std::string kTiny = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";

std::vector<std::string> split_lines(const std::string &text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

size_t words(const std::string &text) { return heed::white_space_words(text).size(); }

const std::vector<std::string> kLines = {
    "Two dogs play in the snow. A man rides a bike! Where is the cat?",
    "",
    "   ",
    "A little girl climbing into a wooden playhouse.",
    "Émile sits on a bench. Über allem: a dog runs... Fast!",
    "Dr. Smith arrived at 5 p.m. and said: 'Hello.'",
    "我来了。你好！",
    "...",
    "Yes!No. A woman sings.",
};

std::string input_text() {
  std::string text;
  for (const auto &l : kLines)
    text += l + "\n";
  return text;
}

} // namespace

TEST_CASE("translate --split-sentences: one line in, one line out, JSON lines list the sentences",
          "[sentences][cli]") {
  const auto text = run_heed("translate " + kShipped + " --split-sentences -q", input_text());
  REQUIRE(text.exit_code == 0);
  const auto out = split_lines(text.out);
  REQUIRE(out.size() == kLines.size());
  CHECK(out[1].empty());
  CHECK(out[2].empty());

  const auto jsonl =
      run_heed("translate " + kShipped + " --split-sentences --format jsonl -q", input_text());
  REQUIRE(jsonl.exit_code == 0);
  const auto objects = split_lines(jsonl.out);
  REQUIRE(objects.size() == kLines.size());
  const heed::SentenceSplitter splitter("en"); // the shipped model's language
  for (size_t i = 0; i < kLines.size(); ++i) {
    INFO(kLines[i]);
    const auto j = nlohmann::json::parse(objects[i]);
    CHECK(j["translation"] == out[i]);
    if (i == 1 || i == 2) {
      CHECK(!j.contains("sentences"));
      continue;
    }
    const auto expected = splitter.split(kLines[i]);
    REQUIRE(j["sentences"].size() == expected.size());
    std::string joined;
    double score = 0;
    for (size_t k = 0; k < expected.size(); ++k) {
      const auto &s = j["sentences"][k];
      CHECK(s["source"] == std::string(expected[k].of(kLines[i])));
      CHECK(heed::test::slice_code_points(kLines[i], s["span"][0], s["span"][1]) ==
            s["source"].get<std::string>());
      const std::string part = s["translation"];
      if (!part.empty())
        joined += (joined.empty() ? "" : " ") + part;
      score += s["score"].get<double>();
      CHECK(!s["tokens"].empty());
    }
    CHECK(j["translation"] == joined);
    CHECK(j["score"].get<double>() == Approx(score).margin(1e-4));
  }
}

TEST_CASE("translate --split-sentences with n-best: N text lines per input, JSON per sentence",
          "[sentences][cli]") {
  const std::string input = "Two dogs play in the snow. A man rides a bike.\n\nA girl sings.\n";
  const auto text =
      run_heed("translate " + kShipped + " --split-sentences --beam-size 3 --n-best 3 -q", input);
  REQUIRE(text.exit_code == 0);
  const auto out = split_lines(text.out);
  REQUIRE(out.size() == 9);
  double previous = 0;
  for (size_t r = 0; r < 3; ++r) {
    CHECK(out[r].rfind("0 ||| ", 0) == 0);
    const double score = std::stod(out[r].substr(out[r].rfind("||| ") + 4));
    if (r > 0)
      CHECK(score <= previous);
    previous = score;
  }
  const auto jsonl = run_heed("translate " + kShipped +
                                  " --split-sentences --beam-size 3 --n-best 3 --format jsonl -q",
                              input);
  REQUIRE(jsonl.exit_code == 0);
  const auto j = nlohmann::json::parse(split_lines(jsonl.out)[0]);
  REQUIRE(j["n_best"].size() == 3);
  REQUIRE(j["sentences"].size() == 2);
  for (const auto &s : j["sentences"])
    CHECK(s["n_best"].size() == 3);
  // The line's best is each sentence's best; its second best differs from it in one sentence.
  CHECK(j["n_best"][0]["translation"] == j["translation"]);
  const double best = j["sentences"][0]["n_best"][0]["score"].get<double>() +
                      j["sentences"][1]["n_best"][0]["score"].get<double>();
  const double second = best + std::max(j["sentences"][0]["n_best"][1]["score"].get<double>() -
                                            j["sentences"][0]["n_best"][0]["score"].get<double>(),
                                        j["sentences"][1]["n_best"][1]["score"].get<double>() -
                                            j["sentences"][1]["n_best"][0]["score"].get<double>());
  CHECK(j["n_best"][1]["score"].get<double>() == Approx(second).margin(1e-4));
}

TEST_CASE("translate --split-sentences --alignment: Pharaoh pairs index the whole line",
          "[sentences][cli][alignment]") {
  const auto got =
      run_heed("translate " + kShipped + " --split-sentences --alignment hard -q", input_text());
  REQUIRE(got.exit_code == 0);
  const auto out = split_lines(got.out);
  REQUIRE(out.size() == kLines.size());
  for (size_t i = 0; i < kLines.size(); ++i) {
    INFO(out[i]);
    const size_t bar = out[i].find(" ||| ");
    REQUIRE(bar != std::string::npos);
    const std::string translation = out[i].substr(0, bar);
    std::istringstream pairs(out[i].substr(bar + 5));
    for (std::string pair; pairs >> pair;) {
      const size_t dash = pair.find('-');
      CHECK(std::stoul(pair.substr(0, dash)) < words(kLines[i]));
      CHECK(std::stoul(pair.substr(dash + 1)) < words(translation));
    }
  }
  // Sentence 2 of line 0 ("A man rides a bike!", words 6-10) aligns only to itself.
  const auto line0 =
      run_heed("translate " + kShipped + " --split-sentences --alignment hard --format jsonl -q",
               kLines[0] + "\n");
  REQUIRE(line0.exit_code == 0);
  const auto j = nlohmann::json::parse(line0.out);
  const size_t first_words = words(j["sentences"][0]["translation"]);
  const size_t second_words = words(j["sentences"][1]["translation"]);
  std::istringstream pairs(j["alignment"].get<std::string>());
  for (std::string pair; pairs >> pair;) {
    const size_t dash = pair.find('-');
    const size_t s = std::stoul(pair.substr(0, dash)), t = std::stoul(pair.substr(dash + 1));
    if (t >= first_words && t < first_words + second_words)
      CHECK((s >= 6 && s < 11));
  }
}

TEST_CASE(
    "translate --split-sentences --attention: a map per sentence, spans in the index, the page",
    "[sentences][cli][attention]") {
  const fs::path dir = heed::test::temp_dir() / "maps";
  const auto got = run_heed("translate " + kShipped + " --split-sentences -q --attention '" +
                                dir.string() + "/'",
                            "Two dogs play. A man rides a bike!\nA girl sings.\n");
  REQUIRE(got.exit_code == 0);
  CHECK(fs::exists(dir / "000000_0.cross.npy"));
  CHECK(fs::exists(dir / "000000_1.cross.npy"));
  CHECK(fs::exists(dir / "000001_0.cross.npy"));
  std::ifstream in(dir / "index.json");
  const auto index = nlohmann::json::parse(in);
  REQUIRE(index["sentences"].size() == 3);
  CHECK(index["sentences"][1]["index"] == 0);
  CHECK(index["sentences"][1]["sentence"] == 1);
  CHECK(index["sentences"][1]["span"] == nlohmann::json{15, 34});
  CHECK(index["sentences"][1]["source"] == "A man rides a bike!");
  CHECK(index["sentences"][1]["maps"]["cross"]["file"] == "000000_1.cross.npy");

  const fs::path page = heed::test::temp_dir() / "page.html";
  const auto html = run_heed("attention " + kShipped + " --split-sentences --html '" +
                             page.string() + "' 'Two dogs play. A man rides a bike!'");
  REQUIRE(html.exit_code == 0);
  std::ifstream p(page);
  const std::string content((std::istreambuf_iterator<char>(p)), std::istreambuf_iterator<char>());
  CHECK(content.find("\"sentence\":1") != std::string::npos);
  CHECK(content.find("\"line\":\"Two dogs play. A man rides a bike!\"") != std::string::npos);
}

TEST_CASE("an over-long line is split with a warning naming it and no line is lost",
          "[sentences][cli][limits]") {
  std::string long_line;
  for (int i = 0; i < 60; ++i)
    long_line += "A dog runs in the park number " + std::to_string(i) + ". ";
  std::string sentence; // one sentence, no punctuation, far over 128 tokens
  for (int i = 0; i < 400; ++i)
    sentence += "dog" + std::to_string(i) + " ";
  const std::string input = "Hello.\n" + long_line + "\n" + sentence + "\nBye.\n";
  // Not -q, which silences warnings.
  const auto got = run_heed("translate " + kTiny + " --max-new-tokens 4 --no-progress", input);
  REQUIRE(got.exit_code == 0);
  CHECK(split_lines(got.out).size() == 4);
  CHECK(got.err.find("heed: warning: line 2: ") != std::string::npos);
  CHECK(got.err.find("split at sentence boundaries") != std::string::npos);
  CHECK(got.err.find("heed: warning: line 3: ") != std::string::npos);
  CHECK(got.err.find("cut at clause or word boundaries") != std::string::npos);
  CHECK(got.err.find("cropped") == std::string::npos);
}

TEST_CASE("heed score refuses --split-sentences and a bad --source-language is a usage error",
          "[sentences][cli]") {
  const fs::path dir = heed::test::temp_dir();
  std::ofstream(dir / "src.txt") << "Hello. Bye.\n";
  std::ofstream(dir / "tgt.txt") << "Hallo. Tschüss.\n";
  const auto score =
      run_heed("score " + kTiny + " --split-sentences --source '" + (dir / "src.txt").string() +
               "' --target '" + (dir / "tgt.txt").string() + "'");
  CHECK(score.exit_code == 2);
  CHECK(score.err.find("heed score does not take --split-sentences") != std::string::npos);
  CHECK(std::count(score.err.begin(), score.err.end(), '\n') == 1);

  const auto bad = run_heed("translate " + kTiny + " --split-sentences --source-language 'x!' Hi");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err == "heed: error: --source-language: 'x!' is not a language tag such as en, de "
                   "or pt-BR\n");
  const auto good = run_heed("translate " + kTiny +
                             " --split-sentences --source-language de -q "
                             "'Hallo. Wie geht es?'");
  CHECK(good.exit_code == 0);

  const auto info = run_heed("info " + kShipped + " --json");
  REQUIRE(info.exit_code == 0);
  CHECK(nlohmann::json::parse(info.out)["source_language"]["code"] == "en");
}

TEST_CASE("heed score: a source line longer than the model takes is an error naming it",
          "[sentences][cli][limits]") {
  // A score is of the whole pair: the source is neither split nor cropped.
  const fs::path dir = heed::test::temp_dir();
  std::string long_source;
  for (int i = 0; i < 60; ++i)
    long_source += "A dog runs in the park number " + std::to_string(i) + ". ";
  std::ofstream(dir / "long-src.txt") << "Hello.\n" << long_source << "\n";
  std::ofstream(dir / "long-tgt.txt") << "Hallo.\nEin Hund.\n";
  const auto got = run_heed("score " + kTiny + " --source '" + (dir / "long-src.txt").string() +
                            "' --target '" + (dir / "long-tgt.txt").string() + "'");
  CHECK(got.exit_code == 4);
  CHECK(got.err.find("heed: error: source line 2 has ") == 0);
  CHECK(got.err.find("more than the model's maximum of 128") != std::string::npos);
  CHECK(std::count(got.err.begin(), got.err.end(), '\n') == 1);
}

TEST_CASE("heed bench: a +split setting translates lines sentence by sentence",
          "[sentences][cli][bench]") {
  const auto s = heed::BenchmarkSetting::parse("32x4+split");
  CHECK(s.split_sentences);
  CHECK(s.batch_size == 32);
  CHECK(s.beam_size == 4);
  CHECK(s.name() == "batch 32 beam 4 +split");
  const auto t = heed::BenchmarkSetting::parse("tokens:1024x1+split");
  CHECK(t.split_sentences);
  CHECK(t.batch_type == heed::BatchType::tokens);
  CHECK(!heed::BenchmarkSetting::parse("32x4").split_sentences);
  for (const std::string bad : {"+split", "32x4+spl", "32x4 +split", "32+splitx4"})
    CHECK_THROWS_AS(heed::BenchmarkSetting::parse(bad, "--settings"), heed::OptionError);

  const fs::path dir = heed::test::temp_dir();
  std::ofstream(dir / "bench.en") << "Two dogs play. A man rides a bike!\nA girl sings.\n";
  const auto got = run_heed("bench " + kTiny + " -i '" + (dir / "bench.en").string() +
                            "' --runs 1 --threads 1 --max-new-tokens 4 --settings 2x1,2x1+split");
  REQUIRE(got.exit_code == 0);
  CHECK(got.out.find("batch 2 greedy +split") != std::string::npos);
}

TEST_CASE("translate --split-sentences leaves 1,000 single-sentence Multi30k lines byte-identical",
          "[sentences][cli][multi30k]") {
  const fs::path data = heed::test::multi30k_dir();
  if (!fs::exists(data / "test_2016_flickr.en.gz") || !fs::exists(data / "val.en.gz")) {
    WARN("skipped: Multi30k is absent from " + data.string() +
         " (it is not part of the repository)");
    return;
  }
  const fs::path dir = heed::test::temp_dir();
  const fs::path all = dir / "all.en";
  REQUIRE(std::system(("zcat '" + (data / "test_2016_flickr.en.gz").string() + "' '" +
                       (data / "val.en.gz").string() + "' > '" + all.string() + "'")
                          .c_str()) == 0);
  // The first 1,000 captions ICU sees as one sentence each.
  const heed::SentenceSplitter splitter("en");
  std::ifstream in(all);
  std::string input;
  int taken = 0, skipped = 0;
  for (std::string line; taken < 1000 && std::getline(in, line);) {
    if (splitter.split(line).size() == 1) {
      input += line + "\n";
      ++taken;
    } else {
      ++skipped;
    }
  }
  REQUIRE(taken == 1000);
  CHECK(skipped < 50);
  std::ofstream(dir / "single.en") << input;
  const std::string file = (dir / "single.en").string();
  const auto plain = run_heed("translate " + kShipped + " -q -i '" + file + "'");
  const auto split = run_heed("translate " + kShipped + " -q --split-sentences -i '" + file + "'");
  REQUIRE(plain.exit_code == 0);
  REQUIRE(split.exit_code == 0);
  CHECK(split_lines(plain.out).size() == 1000);
  CHECK(split.out == plain.out);
}
