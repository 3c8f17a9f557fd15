// Native Marian releases (model.npz, decoder.yml, *.vocab.yml, *.spm) read as
// transformers' convert_marian_to_pytorch.py converts them: the fixtures of
// tests/data/formats/*/marian (written by tests/reference/write_formats.py, the
// converter's inverse) against their Hugging Face originals; the npz/npy and
// vocabulary YAML readers against broken and hostile input.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/json_fields.h"
#include "heed/io/npz_archive.h"
#include "heed/io/safetensors.h"
#include "heed/io/zip_archive.h"
#include "heed/model/checkpoint.h"
#include "heed/outputs/zip_writer.h"
#include "heed/text/vocabulary.h"

#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;

namespace {

const fs::path kData = HEED_TEST_DATA;

std::vector<float> floats(const io::TensorEntry &t) {
  std::vector<float> out(static_cast<size_t>(t.numel()));
  io::TensorArchive::to_float(t, out.data());
  return out;
}

// A .npy member: header for `descr` and `shape`, then `data`.
std::string npy(const std::string &descr, const std::string &shape, const std::string &data,
                const std::string &fortran = "False") {
  std::string dict =
      "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }";
  while ((10 + dict.size() + 1) % 64 != 0)
    dict += ' ';
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict + data;
}

std::string model_yml_member(const std::string &text, size_t pad_to = 0) {
  std::string bytes = text + '\0';
  if (pad_to)
    while (bytes.size() % pad_to)
      bytes += '\0';
  return npy("|i1", "(" + std::to_string(bytes.size()) + ",)", bytes);
}

// Rewrites DIR/model.npz: members named in `replace` get new bytes ("" drops
// them), others are copied; `add` members are appended.
void rewrite_npz(const fs::path &npz, const std::map<std::string, std::string> &replace,
                 const std::map<std::string, std::string> &add = {}) {
  std::vector<std::pair<std::string, std::string>> members;
  {
    io::ZipArchive zip(npz.string());
    for (const auto &m : zip.members()) {
      auto it = replace.find(m.name);
      if (it != replace.end()) {
        if (!it->second.empty())
          members.emplace_back(m.name, it->second);
        continue;
      }
      const auto bytes = zip.read(m);
      members.emplace_back(m.name, std::string(bytes.begin(), bytes.end()));
    }
  }
  for (const auto &[name, bytes] : add)
    members.emplace_back(name, bytes);
  fs::remove(npz);
  ZipWriter out(npz.string());
  for (const auto &[name, bytes] : members)
    out.add(name, bytes);
  out.close();
}

std::string model_yml_of(const fs::path &npz) {
  io::NpzArchive a(npz.string());
  const auto arr = a.read("special:model.yml");
  std::string text(arr.data.begin(), arr.data.end());
  return text.substr(0, text.find('\0'));
}

// A copy of tiny-joint's Marian form with `from` replaced by `to` in its model.yml.
fs::path with_model_yml_edit(const std::string &copy, const std::string &from,
                             const std::string &to) {
  const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", copy);
  std::string text = model_yml_of(dir / "model.npz");
  const size_t at = text.find(from);
  REQUIRE(at != std::string::npos);
  text.replace(at, from.size(), to);
  rewrite_npz(dir / "model.npz", {{"special:model.yml.npy", model_yml_member(text)}});
  return dir;
}

void require_model_error(const fs::path &path, const std::vector<std::string> &parts) {
  try {
    open_checkpoint(path.string());
    FAIL("no ModelError for " << path);
  } catch (const ModelError &e) {
    const std::string what = e.what();
    INFO(what);
    for (const auto &part : parts)
      CHECK(what.find(part) != std::string::npos);
  }
}

} // namespace

TEST_CASE("Marian npz: tiny-multi converts to exactly its Hugging Face original", "[marian]") {
  const Checkpoint c = open_checkpoint((kData / "formats/tiny-multi/marian").string());
  CHECK(c.format == CheckpointFormat::marian_npz);
  const io::SafetensorsFile hf((kData / "tiny-multi/model.safetensors").string());
  // Every tensor the converter writes; heed computes the positions.
  size_t compared = 0;
  for (const auto &[name, entry] : hf.tensors()) {
    if (name.find("embed_positions") != std::string::npos || name == "lm_head.weight" ||
        name == "model.encoder.embed_tokens.weight" || name == "model.decoder.embed_tokens.weight")
      continue;
    INFO(name);
    REQUIRE(c.tensors->contains(name));
    const auto &got = c.tensors->get(name);
    CHECK(got.shape == entry.shape);
    CHECK(floats(got) == floats(entry));
    ++compared;
  }
  CHECK(compared == c.tensors->tensors().size());
  // config.json and generation_config.json as the converter writes them.
  CHECK(c.config_json ==
        io::read_json_file((kData / "formats/tiny-multi/marian.expected/config.json").string()));
  CHECK(c.generation.num_beams == 4);
  CHECK(c.generation.max_length == 512);
  CHECK(c.generation.bad_words_ids == std::vector<std::vector<int64_t>>{{603}});
  CHECK(c.generation.forced_eos_token_id == 0);
  CHECK(c.config.pad_token_id == 603);
  CHECK(c.config.decoder_start_token_id == 603);
  CHECK(c.config.max_position_embeddings == 32);
  CHECK(c.config.scale_embedding);
  // vocab.json as the converter writes it (PyYAML-style vocab.yml, <pad> appended).
  const auto vocab =
      io::read_json_file((kData / "formats/tiny-multi/marian.expected/vocab.json").string());
  REQUIRE(c.source_vocab);
  CHECK(c.source_vocab->entries() == static_cast<int64_t>(vocab.size()));
  for (const auto &[piece, id] : vocab.items())
    CHECK(c.source_vocab->find(piece) == id.get<int64_t>());
  CHECK(!c.target_vocab);
  // model.yml: transformer-guided-alignment-layer: 2 (1-based).
  CHECK(c.alignment_layer == 1);
}

TEST_CASE("Marian npz: tiny-joint (older model.yml, yaml-cpp vocabulary) converts as the "
          "converter does",
          "[marian]") {
  const Checkpoint c = open_checkpoint((kData / "formats/tiny-joint/marian").string());
  CHECK(c.config_json ==
        io::read_json_file((kData / "formats/tiny-joint/marian.expected/config.json").string()));
  const auto vocab =
      io::read_json_file((kData / "formats/tiny-joint/marian.expected/vocab.json").string());
  CHECK(c.source_vocab->entries() == static_cast<int64_t>(vocab.size()));
  for (const auto &[piece, id] : vocab.items())
    CHECK(c.source_vocab->find(piece) == id.get<int64_t>());
  // Every tensor equals tiny-joint's but the <pad> row and bias, which the
  // converter zeroes.
  const io::SafetensorsFile hf((kData / "tiny-joint/model.safetensors").string());
  const auto shared = floats(c.tensors->get("model.shared.weight"));
  const auto original = floats(hf.get("model.shared.weight"));
  REQUIRE(shared.size() == original.size());
  CHECK(std::vector<float>(shared.begin(), shared.end() - 32) ==
        std::vector<float>(original.begin(), original.end() - 32));
  CHECK(std::all_of(shared.end() - 32, shared.end(), [](float v) { return v == 0.f; }));
  const auto bias = floats(c.tensors->get("final_logits_bias"));
  CHECK(bias.back() == 0.f);
  CHECK(std::vector<float>(bias.begin(), bias.end() - 1) == [&] {
    auto b = floats(hf.get("final_logits_bias"));
    return std::vector<float>(b.begin(), b.end() - 1);
  }());
  for (const auto &[name, entry] : c.tensors->tensors())
    if (name != "model.shared.weight" && name != "final_logits_bias") {
      INFO(name);
      CHECK(floats(entry) == floats(hf.get(name)));
    }
}

TEST_CASE("Marian npz: translates byte-identically to the Hugging Face model, greedy and beam",
          "[marian][cli]") {
  const std::string input =
      ">>deu<< Hello\n>>fra<< A dog runs in the park.\n>>spa<< The children are playing.\n";
  for (const std::string options : {"--beam-size 1", "--beam-size 4 --n-best 3"}) {
    INFO(options);
    const auto hf = test::run_heed("translate -m " + (kData / "tiny-multi").string() +
                                       " --format jsonl --max-length 512 " + options,
                                   input);
    const auto marian =
        test::run_heed("translate -m " + (kData / "formats/tiny-multi/marian").string() +
                           " --format jsonl " + options,
                       input);
    REQUIRE(hf.exit_code == 0);
    REQUIRE(marian.exit_code == 0);
    CHECK(marian.out == hf.out);
    CHECK(marian.out.find("\"score\"") != std::string::npos);
  }
}

TEST_CASE("Marian npz: -m may name the .npz or decoder.yml", "[marian][cli]") {
  const fs::path dir = kData / "formats/tiny-joint/marian";
  const auto by_dir = test::run_heed("translate -m " + dir.string() + " --format jsonl", "Hello\n");
  const auto by_npz =
      test::run_heed("translate -m " + (dir / "model.npz").string() + " --format jsonl", "Hello\n");
  const auto by_yml = test::run_heed(
      "translate -m " + (dir / "decoder.yml").string() + " --format jsonl", "Hello\n");
  REQUIRE(by_dir.exit_code == 0);
  CHECK(by_npz.exit_code == 0);
  CHECK(by_yml.exit_code == 0);
  CHECK(by_npz.out == by_dir.out);
  CHECK(by_yml.out == by_dir.out);
  CHECK(open_checkpoint((dir / "model.npz").string()).format == CheckpointFormat::marian_npz);
}

TEST_CASE("Marian npz: both special:model.yml variants parse", "[marian]") {
  // tiny-joint: one NUL; here the same text NUL-padded to 256 bytes, as newer
  // Marian writes it.
  const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-padded");
  const std::string text = model_yml_of(dir / "model.npz");
  rewrite_npz(dir / "model.npz", {{"special:model.yml.npy", model_yml_member(text, 256)}});
  const Checkpoint c = open_checkpoint(dir.string());
  CHECK(c.config_json ==
        io::read_json_file((kData / "formats/tiny-joint/marian.expected/config.json").string()));
  // Bytes after the terminating NUL are corruption.
  rewrite_npz(dir / "model.npz",
              {{"special:model.yml.npy",
                npy("|i1", "(" + std::to_string(text.size() + 2) + ",)", text + '\0' + 'x')}});
  require_model_error(dir, {"special:model.yml", "after the NUL"});
}

TEST_CASE("Marian npz: guided-alignment layer", "[marian]") {
  const auto layer_of = [](const std::string &value, const std::string &copy) {
    const fs::path dir = with_model_yml_edit(copy, "transformer-guided-alignment-layer: last",
                                             "transformer-guided-alignment-layer: " + value);
    return open_checkpoint(dir.string()).alignment_layer;
  };
  CHECK(open_checkpoint((kData / "formats/tiny-joint/marian").string()).alignment_layer == 1);
  CHECK(layer_of("1", "marian-align-1") == 0);
  CHECK(layer_of("last\nguided-alignment: none", "marian-align-none") == std::nullopt);
  CHECK(layer_of("last\nguided-alignment: corpus.align", "marian-align-file") == 1);
  require_model_error(with_model_yml_edit("marian-align-3",
                                          "transformer-guided-alignment-layer: last",
                                          "transformer-guided-alignment-layer: 3"),
                      {"model.npz", "transformer-guided-alignment-layer"});
}

TEST_CASE("Marian npz: what the converter refuses is refused, naming file and key", "[marian]") {
  require_model_error(with_model_yml_edit("marian-s2s", "type: transformer", "type: s2s"),
                      {"model.npz: special:model.yml", "type", "s2s"});
  require_model_error(with_model_yml_edit("marian-ssru", "dec-cell: gru", "dec-cell: ssru"),
                      {"special:model.yml", "dec-cell", "ssru"});
  require_model_error(with_model_yml_edit("marian-prenorm", "transformer-preprocess: \"\"",
                                          "transformer-preprocess: n"),
                      {"special:model.yml", "transformer-preprocess"});
  require_model_error(with_model_yml_edit("marian-postprocess", "transformer-postprocess: dan",
                                          "transformer-postprocess: da"),
                      {"special:model.yml", "transformer-postprocess"});
  require_model_error(with_model_yml_edit("marian-learned-pos",
                                          "transformer-train-position-embeddings: false",
                                          "transformer-train-position-embeddings: true"),
                      {"special:model.yml", "transformer-train-position-embeddings"});
  require_model_error(with_model_yml_edit("marian-missing-key", "right-left: false\n", ""),
                      {"special:model.yml", "right-left"});
  // An untied output layer: tied-embeddings false (tiny-joint's model.yml has
  // tied-embeddings-all true, which implies it), or decoder_ff_logit_out_W.
  {
    const fs::path dir = with_model_yml_edit("marian-untied", "tied-embeddings-all: true",
                                             "tied-embeddings-all: false");
    std::string text = model_yml_of(dir / "model.npz");
    text.replace(text.find("tied-embeddings: true"), 21, "tied-embeddings: false");
    text.replace(text.find("tied-embeddings-src: false"), 26, "tied-embeddings-src: true");
    rewrite_npz(dir / "model.npz", {{"special:model.yml.npy", model_yml_member(text)}});
    require_model_error(dir, {"special:model.yml", "tied-embeddings", "untied output"});
  }
  {
    const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-logit-w");
    rewrite_npz(
        dir / "model.npz", {},
        {{"decoder_ff_logit_out_W.npy", npy("<f4", "(32, 600)", std::string(32 * 600 * 4, '\0'))}});
    require_model_error(dir, {"decoder_ff_logit_out_W", "untied output"});
  }
  // BPE releases have no SentencePiece models.
  {
    const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-bpe");
    fs::remove(dir / "source.spm");
    require_model_error(dir, {"source.spm", "BPE"});
  }
  // decoder.yml's beam-size is required; the model's vocabulary sizes must agree.
  {
    const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-no-beam");
    test::replace_in_file(dir / "decoder.yml", "beam-size: 4\n", "");
    require_model_error(dir, {"decoder.yml", "beam-size"});
  }
  {
    const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-pad-in-vocab");
    std::ofstream(dir / "vocab.yml", std::ios::app) << "<pad>: 600\n";
    require_model_error(dir, {"vocab.yml", "<pad>"});
  }
  {
    const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-extra");
    rewrite_npz(dir / "model.npz", {},
                {{"encoder_emb_ln_scale_pre.npy", npy("<f4", "(1, 32)", std::string(128, '\0'))}});
    require_model_error(dir, {"model.npz", "encoder_emb_ln_scale_pre"});
  }
  {
    const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-missing-tensor");
    rewrite_npz(dir / "model.npz", {{"decoder_l2_context_Wq.npy", ""}});
    require_model_error(dir, {"model.npz", "decoder_l2_context_Wq"});
  }
}

TEST_CASE("Marian npz: broken .npy members and archives are model errors", "[marian]") {
  const std::string floats32(32 * 4, '\0');
  const std::vector<std::pair<std::string, std::string>> broken = {
      {"magic", "\x93NUMPX" + npy("<f4", "(1, 32)", floats32).substr(6)},
      {"header", npy("<f4", "(1, 32)", floats32).substr(0, 20)},
      {"big-endian", npy(">f4", "(1, 32)", floats32)},
      {"Fortran", npy("<f4", "(1, 32)", floats32, "True")},
      {"holds", npy("<f4", "(1, 33)", floats32)},
      {"holds", npy("<f4", "(1, 31)", floats32)},
      {"type", npy("<f8", "(1, 16)", floats32)},
      {"header", npy("<f4", "[1, 32]", floats32)},
      {"shape", npy("<f4", "(1, -32)", floats32)},
      {"elements", npy("<f4", "(4294967296, 4294967296, 4294967296)", floats32)},
  };
  int n = 0;
  for (const auto &[expect, bytes] : broken) {
    INFO(expect);
    const fs::path dir =
        test::copy_fixture("formats/tiny-joint/marian", "marian-npy-" + std::to_string(n++));
    rewrite_npz(dir / "model.npz", {{"encoder_l1_self_bq.npy", bytes}});
    require_model_error(dir, {"model.npz", "encoder_l1_self_bq.npy", expect});
  }
  // A truncated download.
  const fs::path dir = test::copy_fixture("formats/tiny-joint/marian", "marian-truncated");
  fs::resize_file(dir / "model.npz", fs::file_size(dir / "model.npz") / 2);
  require_model_error(dir, {"model.npz"});
  // Cut anywhere: never a crash.
  const std::string whole = test::read_file(kData / "formats/tiny-joint/marian/model.npz");
  for (size_t cut : {size_t{0}, size_t{3}, size_t{100}, whole.size() - 30, whole.size() - 1}) {
    std::ofstream(dir / "model.npz", std::ios::binary | std::ios::trunc) << whole.substr(0, cut);
    CHECK_THROWS_AS(open_checkpoint(dir.string()), ModelError);
  }
}

TEST_CASE("npy headers: numpy's variants are read", "[marian]") {
  const std::string data(8, '\0');
  CHECK(io::parse_npy(npy("<f4", "(2,)", data), "x").shape == std::vector<int64_t>{2});
  CHECK(io::parse_npy(npy("<f2", "(2, 2)", data), "x").type == io::NpyType::f16);
  CHECK(io::parse_npy(npy("|u1", "(8,)", data), "x").numel == 8);
  CHECK(io::parse_npy(npy("<f4", "(2L, 1L)", data), "x").shape == std::vector<int64_t>{2, 1});
  std::string dict = "{'shape': (), 'fortran_order': False, 'descr': '<f4'}";
  dict += std::string(128 - 12 - dict.size() - 1, ' ') + "\n";
  std::string v2 = std::string("\x93NUMPY\x02\x00", 8);
  v2 += static_cast<char>(dict.size());
  v2 += std::string(3, '\0');
  CHECK(io::parse_npy(v2 + dict + std::string(4, '\0'), "x").shape.empty());
  CHECK_THROWS_AS(io::parse_npy(npy("<f4", "(2,)", data).substr(0, 9), "x"), ModelError);
  CHECK_THROWS_AS(io::parse_npy(std::string("\x93NUMPY\x01\x00\xff\xff", 10), "x"), ModelError);
}

TEST_CASE("YAML vocabularies: both writers' styles, and hostile files refused", "[marian]") {
  // yaml-cpp (marian-vocab) style and PyYAML style give the same pieces.
  const std::string yaml_cpp = "</s>: 0\n<unk>: 1\n\xe2\x96\x81"
                               "der: 2\n\"\\\"\": 3\n\"a: b\": 4\n"
                               "\"#\": 5\nyes: 6\n\"~\": 7\n";
  const std::string pyyaml = "</s>: 0\n<unk>: 1\n\"\\u2581der\": 2\n'\"': 3\n'a: b': 4\n"
                             "'#': 5\n'yes': 6\n'~': 7\n";
  for (const auto &text : {yaml_cpp, pyyaml}) {
    const Vocabulary v = Vocabulary::from_yaml(text, "vocab.yml", 100);
    CHECK(v.entries() == 8);
    CHECK(v.find("\xe2\x96\x81"
                 "der") == 2);
    CHECK(v.find("\"") == 3);
    CHECK(v.find("a: b") == 4);
    CHECK(v.find("#") == 5);
    CHECK(v.find("yes") == 6);
    CHECK(v.find("~") == 7);
  }
  // BaseLoader keeps plain null-like keys as the text they spell.
  CHECK(Vocabulary::from_yaml("<unk>: 0\n~: 1\nnull: 2\n", "v.yml", 10).find("null") == 2);
  CHECK(Vocabulary::from_yaml("<unk>: 0\n~: 1\n", "v.yml", 10).find("~") == 1);
  CHECK(Vocabulary::from_yaml("<unk>: '0'\n", "v.yml", 10).find("<unk>") == 0);

  const auto refused = [](const std::string &text, const std::string &part) {
    INFO(text.substr(0, 80));
    try {
      Vocabulary::from_yaml(text, "v.yml", 1000);
      FAIL("accepted");
    } catch (const ModelError &e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find("v.yml") == 0);
      CHECK(std::string(e.what()).find(part) != std::string::npos);
    }
  };
  refused("<unk>: 0\na: 0\n", "id 0");           // duplicate ids
  refused("<unk>: 0\na: 1\na: 2\n", "twice");    // duplicate pieces
  refused("<unk>: 0\na: x\n", "not an integer"); // non-integer ids
  refused("<unk>: 0\na: 1.5\n", "not an integer");
  refused("<unk>: 0\na: -1\n", "non-negative");
  refused("<unk>: 0\na: 1000\n", "outside");
  refused("<unk>: 0\na:\n", "no id");
  refused("<unk>: 0\na: [1]\n", "sequence");
  refused("- a\n- b\n", "sequence");
  refused("<unk>: 0\na: {b: 1}\n", "nested");
  refused("a: 1\n", "<unk>");
  refused("<unk>: 0\n---\nb: 1\n", "more than one");
  refused("<unk>: 0\na: !!int 1\n", "tag");
  refused("<unk>: 0\na: \"\\q\"\n", "not valid YAML");
  refused("", "mapping");
  // Deep nesting stops at the first nested collection.
  refused("a: " + std::string(100000, '[') + std::string(100000, ']') + "\n", "sequence");
  refused(std::string(100000, '{'), "");
  // Billion laughs: aliases are refused, nothing is expanded.
  std::string laughs = "<unk>: 0\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
  for (char c = 'b'; c <= 'j'; ++c)
    laughs += std::string(1, c) + ": &" + c + " [*" + char(c - 1) + ",*" + char(c - 1) + ",*" +
              char(c - 1) + "]\n";
  refused(laughs, "sequence");
  refused("<unk>: &x 0\na: *x\n", "alias");
}
