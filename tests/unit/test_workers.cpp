// --workers: batches translated side by side by translator replicas give the
// outputs of one worker byte for byte (text, jsonl n-best, attention,
// alignments, resume, shards), and the worker pool hands results on in order
// and passes errors on.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "heed/decoding/batch_workers.h"
#include "test_support.h"

using namespace heed;
using test::read_file;
using test::run_heed;
namespace fs = std::filesystem;

namespace {

const std::string kModel = std::string("-m '") + HEED_TEST_DATA + "/tiny-joint'";

// stdout of `heed translate ARGS` with 1, 2 and 3 workers of one thread each
// (small batches, so that a window holds many): all three must be equal.
void check_same_output(const std::string &args) {
  std::string reference;
  for (int workers = 1; workers <= 3; ++workers) {
    const auto r = run_heed("translate " + kModel + " -q --threads 1 --batch-size 3 --window 40 " +
                            args + " --workers " + std::to_string(workers));
    INFO("--workers " << workers << ": " << r.err);
    REQUIRE(r.exit_code == 0);
    REQUIRE(!r.out.empty());
    if (workers == 1)
      reference = r.out;
    else
      CHECK(r.out == reference);
  }
}

} // namespace

TEST_CASE("workers: text output equals one worker's", "[workers]") {
  const fs::path dir = test::write_mixed_corpus("workers-text", 120, 31);
  check_same_output("-i '" + (dir / "corpus.txt").string() + "'");
  check_same_output("--beam-size 3 -i '" + (dir / "corpus.txt").string() + "'");
}

TEST_CASE("workers: jsonl n-best and split sentences equal one worker's", "[workers]") {
  const fs::path dir = test::write_mixed_corpus("workers-jsonl", 80, 32);
  check_same_output("--format jsonl --beam-size 3 --n-best 3 --split-sentences -i '" +
                    (dir / "corpus.txt").string() + "'");
}

TEST_CASE("workers: attention maps and alignments equal one worker's", "[workers]") {
  const fs::path dir = test::write_mixed_corpus("workers-attention", 40, 33);
  check_same_output("--alignment soft -i '" + (dir / "corpus.txt").string() + "'");
  std::string reference;
  for (int workers = 1; workers <= 3; ++workers) {
    const fs::path maps = dir / ("maps" + std::to_string(workers) + ".json");
    const auto r = run_heed("translate " + kModel +
                            " -q --threads 1 --batch-size 3 --beam-size 2 --attention-kind all "
                            "--attention '" +
                            maps.string() + "' -i '" + (dir / "corpus.txt").string() +
                            "' --workers " + std::to_string(workers));
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const std::string text = read_file(maps);
    REQUIRE(text.size() > 100);
    if (workers == 1)
      reference = text;
    else
      CHECK(text == reference);
  }
}

TEST_CASE("workers: shards and resume after SIGKILL equal one worker's run", "[workers]") {
  const fs::path dir = test::write_mixed_corpus("workers-resume", 900, 34);
  const std::string base = "translate " + kModel +
                           " -q --threads 1 --beam-size 2 --window 64 --batch-size 8 -i '" +
                           (dir / "corpus.txt").string() + "' ";
  const auto single = run_heed(base);
  REQUIRE(single.exit_code == 0);
  const auto shard = run_heed(base + "--shard 1/3");
  REQUIRE(shard.exit_code == 0);
  const auto shard_workers = run_heed(base + "--shard 1/3 --workers 3");
  REQUIRE(shard_workers.exit_code == 0);
  CHECK(shard_workers.out == shard.out);

  // Killed while running with 2 workers, finished with 3.
  const fs::path partial = dir / "partial.txt";
  fs::remove(partial);
  // Killed as soon as its first window is written (mid-run: 15 windows).
  test::run_heed_killed_after_first_write(
      base + "-o '" + partial.string() + "' --resume --workers 2", partial);
  const auto finished = run_heed(base + "-o '" + partial.string() + "' --resume --workers 3");
  INFO(finished.err);
  REQUIRE(finished.exit_code == 0);
  CHECK(read_file(partial) == single.out);
}

TEST_CASE("workers: out-of-range counts exit 2 naming --workers", "[workers]") {
  for (const std::string args : {"--workers 0", "--workers -1", "--workers x",
                                 "--threads 1 --workers 100000", "--threads 2 --workers 1000000"}) {
    const auto r = run_heed("translate " + kModel + " " + args + " 'A dog.'");
    INFO(args << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("--workers") != std::string::npos);
    CHECK(r.out.empty());
  }
}

TEST_CASE("batch workers: results in item order, every worker used", "[workers]") {
  BatchWorkers pool(3, 1);
  CHECK(pool.size() == 3);
  std::vector<int> who(50, -1);
  std::vector<size_t> order;
  pool.run(
      who.size(),
      [&](int worker, size_t item) {
        // Later items finish first at times: order must still hold.
        if (item % 7 == 0)
          std::this_thread::sleep_for(std::chrono::milliseconds(2));
        who[item] = worker;
      },
      [&](size_t item) {
        CHECK(who[item] >= 0);
        order.push_back(item);
      });
  REQUIRE(order.size() == who.size());
  for (size_t i = 0; i < order.size(); ++i)
    CHECK(order[i] == i);
  for (int w : who)
    CHECK((w >= 0 && w < 3));
  // The pool is reusable, and an empty run returns at once.
  pool.run(
      0, [](int, size_t) { FAIL("no item"); }, [](size_t) { FAIL("no item"); });
}

TEST_CASE("batch workers: the first error stops the run and is rethrown", "[workers]") {
  BatchWorkers pool(2, 1);
  std::atomic<int> ran{0};
  std::vector<size_t> finished;
  CHECK_THROWS_WITH(pool.run(
                        100,
                        [&](int, size_t item) {
                          ++ran;
                          if (item == 5)
                            throw std::runtime_error("item 5 failed");
                          // Later items take a while, so that a loaded
                          // machine cannot run them all before item 5
                          // fails.
                          if (item > 5)
                            std::this_thread::sleep_for(std::chrono::milliseconds(1));
                        },
                        [&](size_t item) { finished.push_back(item); }),
                    "item 5 failed");
  CHECK(finished.size() <= 5);
  for (size_t i = 0; i < finished.size(); ++i)
    CHECK(finished[i] == i);
  CHECK(ran < 100);

  // An exception from `finished` (a stop request) ends the run the same way.
  finished.clear();
  CHECK_THROWS_WITH(pool.run(
                        100, [](int, size_t) {},
                        [&](size_t item) {
                          finished.push_back(item);
                          if (item == 2)
                            throw std::runtime_error("stop");
                        }),
                    "stop");
  CHECK(finished.size() == 3);
  // Still usable afterwards.
  size_t count = 0;
  pool.run(
      10, [](int, size_t) {}, [&](size_t) { ++count; });
  CHECK(count == 10);
}
