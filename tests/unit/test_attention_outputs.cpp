// Attention outputs: .npy bytes as numpy writes them, the zip writer, the
// directory / .npz / .json writers read back by a small parser here and, when
// Debian's numpy is installed, by numpy.load itself; words from pieces, word
// alignments, and the data the HTML page embeds.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/zip_archive.h"
#include "heed/model/marian_model.h"
#include "heed/outputs/alignment.h"
#include "heed/outputs/attention_html.h"
#include "heed/outputs/attention_writer.h"
#include "heed/outputs/npy.h"
#include "heed/outputs/translation_attention.h"
#include "heed/outputs/zip_writer.h"
#include "heed/text/words.h"
#include "test_support.h"

using namespace heed;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const std::string kSpace = "\xe2\x96\x81"; // U+2581

std::string read_bytes(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

uint32_t le16(const std::string &b, size_t at) {
  return static_cast<unsigned char>(b[at]) | static_cast<unsigned char>(b[at + 1]) << 8;
}
uint32_t le32(const std::string &b, size_t at) { return le16(b, at) | le16(b, at + 2) << 16; }

// A .npy file read back without numpy: the shape from the header, then the floats.
struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

NpyArray parse_npy(const std::string &bytes) {
  REQUIRE(bytes.size() >= 10);
  REQUIRE(bytes.substr(0, 8) == std::string("\x93NUMPY\x01\x00", 8));
  const size_t data_at = 10 + le16(bytes, 8);
  REQUIRE(data_at % 64 == 0);
  const std::string header = bytes.substr(10, data_at - 10);
  REQUIRE(header.find("'descr': '<f4'") != std::string::npos);
  REQUIRE(header.find("'fortran_order': False") != std::string::npos);
  REQUIRE(header.back() == '\n');
  NpyArray a;
  const size_t open = header.find("'shape': (") + 10, close = header.find(')', open);
  std::stringstream dims(header.substr(open, close - open));
  std::string dim;
  while (std::getline(dims, dim, ','))
    if (dim.find_first_not_of(' ') != std::string::npos)
      a.shape.push_back(std::stoll(dim));
  int64_t count = 1;
  for (int64_t d : a.shape)
    count *= d;
  REQUIRE(bytes.size() == data_at + static_cast<size_t>(count) * 4);
  a.values.resize(static_cast<size_t>(count));
  std::memcpy(a.values.data(), bytes.data() + data_at, bytes.size() - data_at);
  return a;
}

// The CRC-32 of `bytes`, by zlib.
uint32_t zlib_crc32(const std::string &bytes) {
  return static_cast<uint32_t>(::crc32(::crc32(0, nullptr, 0),
                                       reinterpret_cast<const Bytef *>(bytes.data()),
                                       static_cast<uInt>(bytes.size())));
}

// A zip archive read back: central directory, local headers, CRCs all checked
// (against zlib's CRC-32, independent of the writer).
std::map<std::string, std::string> parse_zip(const std::string &zip) {
  REQUIRE(zip.size() >= 22);
  const size_t end = zip.size() - 22; // no archive comment
  REQUIRE(le32(zip, end) == 0x06054b50);
  const uint32_t entries = le16(zip, end + 10);
  size_t at = le32(zip, end + 16);
  REQUIRE(at + le32(zip, end + 12) == end);
  std::map<std::string, std::string> members;
  for (uint32_t i = 0; i < entries; ++i) {
    REQUIRE(le32(zip, at) == 0x02014b50);
    REQUIRE(le16(zip, at + 10) == 0); // stored
    const uint32_t crc = le32(zip, at + 16), size = le32(zip, at + 20);
    CHECK(le32(zip, at + 24) == size);
    const uint32_t name_length = le16(zip, at + 28);
    const uint32_t skip = name_length + le16(zip, at + 30) + le16(zip, at + 32);
    const std::string name = zip.substr(at + 46, name_length);
    const size_t local = le32(zip, at + 42);
    REQUIRE(le32(zip, local) == 0x04034b50);
    CHECK(le32(zip, local + 14) == crc);
    CHECK(le32(zip, local + 18) == size);
    CHECK(zip.substr(local + 30, le16(zip, local + 26)) == name);
    const size_t data = local + 30 + le16(zip, local + 26) + le16(zip, local + 28);
    members[name] = zip.substr(data, size);
    CHECK(zlib_crc32(members[name]) == crc);
    at += 46 + skip;
  }
  return members;
}

// The message of the `Exception` that `f` throws, so tests check type and text.
template <class Exception, class F> std::string error_of(F &&f) {
  try {
    f();
  } catch (const Exception &e) {
    return e.what();
  }
  return "(no error)";
}

// Stops the test unless Debian's /usr/bin/python3 imports `module`. These
// read-back checks never skip: python3 and numpy are test dependencies that
// scripts/install-packages installs, and a skip would hide a gap in that list.
void require_python_module(const std::string &module) {
  INFO("/usr/bin/python3 cannot import "
       << module << ": scripts/install-packages installs python3 and python3-numpy");
  REQUIRE(std::system(("/usr/bin/python3 -c 'import " + module + "' > /dev/null 2>&1").c_str()) ==
          0);
}

// Runs a Python script with Debian's numpy; its exit code (0 when all its asserts hold).
int run_python(const std::string &script) {
  const fs::path file = heed::test::temp_dir() / "check_attention.py";
  std::ofstream(file) << script;
  const fs::path log = heed::test::temp_dir() / "check_attention.log";
  const int status = std::system(
      ("/usr/bin/python3 '" + file.string() + "' > '" + log.string() + "' 2>&1").c_str());
  INFO(read_bytes(log));
  CHECK(status == 0);
  return status;
}

// An AttentionMap with labels and weights value(i) = i + 0.5 (exact in float32,
// so numpy's np.arange(n) + 0.5 must match bit for bit).
AttentionMap counting_map(std::vector<std::string> layers, std::vector<std::string> heads,
                          int64_t queries, int64_t keys) {
  AttentionMap m;
  m.layers = std::move(layers);
  m.heads = std::move(heads);
  m.weights.resize(
      {static_cast<int64_t>(m.layers.size()), static_cast<int64_t>(m.heads.size()), queries, keys});
  for (int64_t i = 0; i < m.weights.size(); ++i)
    m.weights[i] = static_cast<float>(i) + 0.5f;
  return m;
}

// Two hypotheses of sentence 0 and one of sentence 7, with all three kinds of maps.
struct Fixture {
  AttentionMaps best, second, other;
  std::vector<SentenceAttention> sentences;

  Fixture() {
    const std::vector<std::string> source = {kSpace + "Two", kSpace + "dogs", ".", "</s>"};
    const std::vector<std::string> target = {kSpace + "Zwei", kSpace + "Hund", "e", "</s>"};
    const std::vector<std::string> decoder_input = {"<pad>", kSpace + "Zwei", kSpace + "Hund", "e"};
    best.cross = counting_map({"0", "1"}, {"0", "1", "2"}, 4, 4);
    best.encoder = counting_map({"mean"}, {"mean"}, 4, 4);
    best.decoder = counting_map({"-1"}, {"max"}, 4, 4);
    second.cross = counting_map({"0", "1"}, {"0", "1", "2"}, 3, 4);
    other.cross = counting_map({"5"}, {"7"}, 2, 3);

    SentenceAttention s;
    s.index = 0;
    s.source = "Two dogs.";
    s.translation = "Zwei Hunde";
    s.source_pieces = source;
    s.target_pieces = target;
    s.decoder_input_pieces = decoder_input;
    s.maps = &best;
    sentences.push_back(s);

    s.hypothesis = 1;
    s.translation = "Zwei Hund";
    s.target_pieces = {kSpace + "Zwei", kSpace + "Hund", "</s>"};
    s.decoder_input_pieces = {"<pad>", kSpace + "Zwei", kSpace + "Hund"};
    s.maps = &second;
    sentences.push_back(s);

    SentenceAttention t;
    t.index = 7;
    t.source = "Hi <b>";
    t.translation = "Hallo";
    t.source_pieces = {kSpace + "Hi", kSpace + "</script>", "</s>"};
    t.target_pieces = {kSpace + "Hallo", "</s>"};
    t.decoder_input_pieces = {"<pad>", kSpace + "Hallo"};
    t.maps = &other;
    sentences.push_back(t);
  }
};

std::vector<float> values_of(const AttentionMap &m) {
  return std::vector<float>(m.weights.data(), m.weights.data() + m.weights.size());
}

// The index.json entry of each sentence, checked against the fixture.
void check_index(const json &index, const Fixture &f, bool with_files) {
  CHECK(index["format"] == "heed-attention");
  CHECK(index["version"] == 1);
  REQUIRE(index["sentences"].size() == 3);
  const json &first = index["sentences"][0];
  CHECK(first["index"] == 0);
  CHECK(first["hypothesis"] == 0);
  CHECK(first["source"] == "Two dogs.");
  CHECK(first["tokens"]["source"]["pieces"] == f.sentences[0].source_pieces);
  CHECK(first["tokens"]["source"]["words"] == std::vector<std::string>{"Two", "dogs."});
  CHECK(first["tokens"]["source"]["piece_word"] == std::vector<int64_t>{0, 1, 1, -1});
  CHECK(first["tokens"]["target"]["words"] == std::vector<std::string>{"Zwei", "Hunde"});
  CHECK(first["tokens"]["decoder_input"]["piece_word"] == std::vector<int64_t>{-1, 0, 1, 1});
  const json &cross = first["maps"]["cross"];
  CHECK(cross["shape"] == std::vector<int64_t>{2, 3, 4, 4});
  CHECK(cross["layers"] == std::vector<std::string>{"0", "1"});
  CHECK(cross["heads"] == std::vector<std::string>{"0", "1", "2"});
  CHECK(cross["queries"] == "target");
  CHECK(cross["keys"] == "source");
  CHECK(first["maps"]["encoder"]["queries"] == "source");
  CHECK(first["maps"]["decoder"]["keys"] == "decoder_input");
  CHECK(first["maps"]["decoder"]["heads"] == std::vector<std::string>{"max"});
  const json &second = index["sentences"][1];
  CHECK(second["hypothesis"] == 1);
  CHECK(second["maps"].size() == 1);
  CHECK(index["sentences"][2]["tokens"]["source"]["pieces"][1] == kSpace + "</script>");
  if (with_files) {
    CHECK(cross["file"] == "000000.cross.npy");
    CHECK(second["maps"]["cross"]["file"] == "000000-1.cross.npy");
    CHECK(index["sentences"][2]["maps"]["cross"]["file"] == "000007.cross.npy");
  } else {
    CHECK_FALSE(cross.contains("file"));
  }
}

// The files each writer must produce for the fixture, with their maps.
std::vector<std::pair<std::string, const AttentionMap *>> expected_files(const Fixture &f) {
  return {{"000000.cross.npy", &*f.best.cross},
          {"000000.encoder.npy", &*f.best.encoder},
          {"000000.decoder.npy", &*f.best.decoder},
          {"000000-1.cross.npy", &*f.second.cross},
          {"000007.cross.npy", &*f.other.cross}};
}

// Python lines asserting that array `expr` has the shape and values of `m`.
std::string python_check(const std::string &expr, const AttentionMap &m) {
  std::string shape;
  for (int64_t d : m.weights.shape())
    shape += std::to_string(d) + ",";
  return "a = " + expr + "\nassert a.dtype == numpy.dtype('<f4'), a.dtype\nassert a.shape == (" +
         shape + "), a.shape\nassert (a.ravel() == numpy.arange(a.size, dtype='<f4') + " +
         "numpy.float32(0.5)).all()\nassert a.flags['C_CONTIGUOUS']\n";
}

// The JSON an attention page embeds for its script.
json embedded_page_data(const std::string &page) {
  const std::string open = "<script type=\"application/json\" id=\"heed-data\">";
  const size_t at = page.find(open);
  REQUIRE(at != std::string::npos);
  const size_t begin = at + open.size();
  return json::parse(page.substr(begin, page.find("</script>", begin) - begin));
}

} // namespace

TEST_CASE("npy header is byte for byte what numpy.save writes", "[attention-outputs]") {
  const std::string header = npy_header({2, 3});
  std::string expected = std::string("\x93NUMPY\x01\x00\x76\x00", 10) +
                         "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
  expected.append(127 - expected.size(), ' ');
  expected += '\n';
  CHECK(header == expected);
  CHECK(header.size() == 128);

  // One-element tuple, scalar, and long first dimensions keep the 64-byte alignment.
  CHECK(npy_header({3}).find("'shape': (3,), }") != std::string::npos);
  CHECK(npy_header({}).find("'shape': (), }") != std::string::npos);
  for (const auto &shape :
       std::vector<std::vector<int64_t>>{{3}, {}, {1, 2, 3, 4}, {123456789012, 0}, {6, 8, 40, 41}})
    CHECK(npy_header(shape).size() % 64 == 0);

  const std::vector<float> values = {1.5f, -2.f, 0.25f, 3.f, 4.f, 5.f};
  const NpyArray back = parse_npy(npy_bytes(values.data(), {2, 3}));
  CHECK(back.shape == std::vector<int64_t>{2, 3});
  CHECK(back.values == values);

  require_python_module("numpy");
  const fs::path dir = heed::test::temp_dir();
  const std::vector<std::vector<int64_t>> shapes = {{2, 3}, {3}, {}, {1, 2, 3, 4}, {0, 5}};
  std::string script = "import numpy, io\n";
  for (size_t i = 0; i < shapes.size(); ++i) {
    int64_t count = 1;
    std::string shape;
    for (int64_t d : shapes[i]) {
      count *= d;
      shape += std::to_string(d) + ",";
    }
    std::vector<float> data(static_cast<size_t>(count));
    for (int64_t k = 0; k < count; ++k)
      data[static_cast<size_t>(k)] = static_cast<float>(k) + 0.5f;
    const fs::path file = dir / ("shape" + std::to_string(i) + ".npy");
    write_npy(file.string(), data.data(), shapes[i]);
    script += "b = io.BytesIO(); numpy.save(b, (numpy.arange(" + std::to_string(count) +
              ", dtype='<f4') + numpy.float32(0.5)).reshape((" + shape + ")))\n" + "assert open('" +
              file.string() + "', 'rb').read() == b.getvalue(), '" + file.string() + "'\n";
  }
  run_python(script);
}

TEST_CASE("zip writer: stored members read back with their CRCs", "[attention-outputs]") {
  const fs::path path = heed::test::temp_dir() / "members.zip";
  {
    ZipWriter zip(path.string());
    zip.add("a.txt", "hello");
    zip.add("empty", "");
    zip.begin_member("streamed.bin");
    zip.append("part one, ");
    zip.append("part two");
    zip.end_member();
    zip.close();
  }
  const auto members = parse_zip(read_bytes(path));
  REQUIRE(members.size() == 3);
  CHECK(members.at("a.txt") == "hello");
  CHECK(members.at("empty").empty());
  CHECK(members.at("streamed.bin") == "part one, part two");

  SECTION("an unfinished writer still leaves a readable archive") {
    const fs::path partial = heed::test::temp_dir() / "partial.zip";
    {
      ZipWriter zip(partial.string());
      zip.add("one", "1");
    }
    CHECK(parse_zip(read_bytes(partial)).at("one") == "1");
  }
  SECTION("the same members give the same bytes: fixed timestamps") {
    const fs::path again = heed::test::temp_dir() / "members-again.zip";
    {
      ZipWriter zip(again.string());
      zip.add("a.txt", "hello");
      zip.add("empty", "");
      zip.add("streamed.bin", "part one, part two");
    }
    CHECK(read_bytes(again) == read_bytes(path));
  }
  SECTION("an uncreatable file is an IoError naming it") {
    CHECK_THAT(error_of<IoError>([] { ZipWriter("/nonexistent-dir/x.npz"); }),
               Catch::Contains("/nonexistent-dir/x.npz"));
  }
  SECTION("an archive libzip cannot write is an IoError naming it") {
    const fs::path dir = heed::test::temp_dir() / "zip-gone";
    fs::create_directories(dir);
    const std::string gone = (dir / "x.npz").string();
    ZipWriter zip(gone);
    zip.add("one", "1");
    fs::remove_all(dir); // libzip's temporary file next to it cannot be created
    CHECK_THAT(error_of<IoError>([&] { zip.close(); }), Catch::Contains(gone));
  }
  require_python_module("zipfile");
  run_python("import zipfile\nz = zipfile.ZipFile('" + path.string() +
             "')\nassert z.testzip() is None\nassert z.read('streamed.bin') == b'part one, "
             "part two'\n"
             "assert z.getinfo('a.txt').date_time == (1980, 1, 1, 0, 0, 0)\n"
             "assert z.getinfo('a.txt').external_attr >> 16 == 0o100644\n");
}

TEST_CASE("zip writer: zip64 records past 65535 members", "[attention-outputs]") {
  // libzip decides on zip64 by itself; past 65535 members the end of central
  // directory record must defer to a zip64 one. (Offsets past 4 GiB take the
  // same path in libzip, not tested here: it would write 4 GiB.)
  const fs::path many = heed::test::temp_dir() / "many.zip";
  {
    ZipWriter zip(many.string());
    for (int i = 0; i < 70000; ++i)
      zip.add(std::to_string(i), i == 69999 ? "last" : std::to_string(i % 7));
    zip.close();
  }
  const std::string bytes = read_bytes(many);
  const size_t end = bytes.size() - 22;
  CHECK(le32(bytes, end) == 0x06054b50);
  CHECK(le16(bytes, end + 10) == 0xffff); // the real count is in the zip64 record
  CHECK(le32(bytes, end - 20) == 0x07064b50);

  // libzip's own reader, with its consistency checks, and the CRC of each member.
  const io::ZipArchive archive(many.string());
  REQUIRE(archive.members().size() == 70000);
  const io::ZipArchive::Member *last = archive.find("69999");
  REQUIRE(last != nullptr);
  const std::vector<uint8_t> data = archive.read(*last);
  CHECK(std::string(data.begin(), data.end()) == "last");

  require_python_module("zipfile");
  run_python("import zipfile\n"
             "z = zipfile.ZipFile('" +
             many.string() +
             "')\n"
             "assert len(z.infolist()) == 70000\n"
             "assert z.testzip() is None\n"
             "assert all(i.compress_type == zipfile.ZIP_STORED for i in z.infolist())\n"
             "assert z.read('69999') == b'last'\n"
             "assert z.read('12345') == b'%d' % (12345 % 7)\n");
}

TEST_CASE("attention output format follows the path", "[attention-outputs]") {
  const fs::path dir = heed::test::temp_dir();
  CHECK(attention_file_format("out/") == AttentionFileFormat::directory);
  CHECK(attention_file_format("out") == AttentionFileFormat::directory);
  CHECK(attention_file_format(dir.string()) == AttentionFileFormat::directory);
  fs::create_directories(dir / "maps.v2");
  CHECK(attention_file_format((dir / "maps.v2").string()) == AttentionFileFormat::directory);
  CHECK(attention_file_format("maps.npz") == AttentionFileFormat::npz);
  CHECK(attention_file_format("maps.NPZ") == AttentionFileFormat::npz);
  CHECK(attention_file_format("maps.json") == AttentionFileFormat::json);
  CHECK_THAT(error_of<OptionError>([] { attention_file_format("maps.txt"); }),
             Catch::Contains("'maps.txt'"));
  CHECK(attention_file_name(3, 0, "cross") == "000003.cross.npy");
  CHECK(attention_file_name(1234567, 2, "encoder") == "1234567-2.encoder.npy");
}

TEST_CASE("directory output: .npy per sentence and kind plus index.json", "[attention-outputs]") {
  const Fixture f;
  const fs::path dir = heed::test::temp_dir() / "maps-dir";
  fs::remove_all(dir);
  {
    auto writer = AttentionWriter::open(dir.string() + "/");
    for (const auto &s : f.sentences)
      writer->write(s);
    CHECK_FALSE(fs::exists(dir / "index.json")); // only complete indexes get the name
    writer->close();
  }
  for (const auto &[name, map] : expected_files(f)) {
    INFO(name);
    const NpyArray a = parse_npy(read_bytes(dir / name));
    CHECK(a.shape == map->weights.shape());
    CHECK(a.values == values_of(*map));
  }
  CHECK_FALSE(fs::exists(dir / "index.json.partial"));
  const json index = json::parse(read_bytes(dir / "index.json"));
  check_index(index, f, true);

  require_python_module("numpy");
  std::string script = "import numpy, json\nd = '" + dir.string() + "/'\n";
  for (const auto &[name, map] : expected_files(f))
    script += python_check("numpy.load(d + '" + name + "')", *map);
  script += "i = json.load(open(d + 'index.json'))\n"
            "for s in i['sentences']:\n"
            "  for m in s['maps'].values():\n"
            "    assert list(numpy.load(d + m['file']).shape) == m['shape']\n";
  run_python(script);
}

TEST_CASE("npz output: numpy.savez layout plus an index.json member", "[attention-outputs]") {
  const Fixture f;
  const fs::path path = heed::test::temp_dir() / "maps.npz";
  {
    auto writer = AttentionWriter::open(path.string());
    for (const auto &s : f.sentences)
      writer->write(s);
    writer->close();
  }
  const auto members = parse_zip(read_bytes(path));
  CHECK(members.size() == expected_files(f).size() + 1);
  for (const auto &[name, map] : expected_files(f)) {
    INFO(name);
    REQUIRE(members.count(name) == 1);
    const NpyArray a = parse_npy(members.at(name));
    CHECK(a.shape == map->weights.shape());
    CHECK(a.values == values_of(*map));
  }
  check_index(json::parse(members.at("index.json")), f, true);

  require_python_module("numpy");
  std::string script = "import numpy, json\nz = numpy.load('" + path.string() + "')\n";
  for (const auto &[name, map] : expected_files(f))
    script += python_check("z['" + name.substr(0, name.size() - 4) + "']", *map);
  script += "i = json.loads(z['index.json'])\n"
            "assert sorted(z.files) == sorted([m['file'][:-4] for s in i['sentences'] for m in "
            "s['maps'].values()] + ['index.json']), z.files\n";
  run_python(script);
}

TEST_CASE("json output: one document with the weights inline", "[attention-outputs]") {
  const Fixture f;
  const fs::path path = heed::test::temp_dir() / "maps.json";
  {
    auto writer = AttentionWriter::open(path.string());
    for (const auto &s : f.sentences)
      writer->write(s);
  } // not closed: an interrupted run leaves the document under its partial name
  CHECK_FALSE(fs::exists(path));
  REQUIRE(fs::exists(path.string() + ".partial"));
  {
    auto writer = AttentionWriter::open(path.string());
    for (const auto &s : f.sentences)
      writer->write(s);
    writer->close();
  }
  CHECK_FALSE(fs::exists(path.string() + ".partial"));
  const json doc = json::parse(read_bytes(path));
  check_index(doc, f, false);
  const json &weights = doc["sentences"][0]["weights"];
  REQUIRE(weights["cross"].size() == 2);          // layers
  REQUIRE(weights["cross"][1].size() == 3);       // heads
  REQUIRE(weights["cross"][1][2].size() == 4);    // queries
  REQUIRE(weights["cross"][1][2][3].size() == 4); // keys
  CHECK(weights["cross"][1][2][3][1].get<float>() ==
        f.best.cross->weights[(1 * 3 + 2) * 16 + 3 * 4 + 1]);
  CHECK(weights["encoder"][0][0][0][0].get<float>() == 0.5f);
  CHECK(doc["sentences"][2]["weights"]["cross"] ==
        json::parse("[[[[0.5,1.5,2.5],[3.5,4.5,5.5]]]]"));
}

TEST_CASE("attention writers reject maps that do not match the pieces", "[attention-outputs]") {
  Fixture f;
  f.sentences[0].target_pieces.pop_back();
  auto writer = AttentionWriter::open((heed::test::temp_dir() / "bad.json").string());
  CHECK_THAT(error_of<Error>([&] { writer->write(f.sentences[0]); }),
             Catch::Contains("sentence 0: cross attention is 4 x 4 but there "
                             "are 3 target and 4 source pieces"));
}

TEST_CASE("words from SentencePiece pieces", "[attention-outputs]") {
  SECTION("word starts, continuations and EOS") {
    const auto w = words_from_pieces({kSpace + "Two", kSpace + "dog", "s", ".", "</s>"});
    CHECK(w.words == std::vector<std::string>{"Two", "dogs."});
    CHECK(w.piece_word == std::vector<int64_t>{0, 1, 1, 1, -1});
  }
  SECTION("a lone space belongs to the next piece's word") {
    const auto w = words_from_pieces({kSpace + "a", kSpace, "\xce\xa9", "x", kSpace, "</s>"});
    CHECK(w.words == std::vector<std::string>{"a", "\xce\xa9x"});
    // The trailing lone space has no word after it: it stays with "Ωx".
    CHECK(w.piece_word == std::vector<int64_t>{0, 1, 1, 1, 1, -1});
  }
  SECTION("language codes are words of their own; specials are no words") {
    const auto w =
        words_from_pieces({">>deu<<", "Hallo", kSpace + "Welt", "<unk>", "<pad>", "s", "</s>"});
    CHECK(w.words == std::vector<std::string>{">>deu<<", "Hallo", "Welt<unk>", "s"});
    CHECK(w.piece_word == std::vector<int64_t>{0, 1, 2, 2, -1, 3, -1});
  }
  SECTION("no pieces, only specials, a first piece without a space") {
    CHECK(words_from_pieces({}).words.empty());
    const auto specials = words_from_pieces({"<pad>", "</s>"});
    CHECK(specials.words.empty());
    CHECK(specials.piece_word == std::vector<int64_t>{-1, -1});
    const auto lone = words_from_pieces({kSpace});
    CHECK(lone.words.empty());
    CHECK(lone.piece_word == std::vector<int64_t>{-1});
    CHECK(words_from_pieces({"ab", "c"}).words == std::vector<std::string>{"abc"});
  }
}

TEST_CASE("word alignments from piece attention", "[attention-outputs]") {
  // Source "▁Two ▁dog s </s>" (words Two, dogs), target "▁Zwei ▁Hund e </s>"
  // (words Zwei, Hunde).
  const PieceWords source = words_from_pieces({kSpace + "Two", kSpace + "dog", "s", "</s>"});
  const PieceWords target = words_from_pieces({kSpace + "Zwei", kSpace + "Hund", "e", "</s>"});
  // Rows: target pieces; columns: source pieces.
  const std::vector<float> weights = {
      0.6f, 0.1f, 0.1f, 0.2f, // ▁Zwei: 0.6 / 0.8 on Two after dropping EOS
      0.1f, 0.3f, 0.4f, 0.2f, // ▁Hund: dogs has 0.7 / 0.8
      0.3f, 0.5f, 0.0f, 0.2f, // e: dogs has 0.5 / 0.8
      0.0f, 0.0f, 0.0f, 1.0f, // </s>: no word, ignored
  };
  const WordAlignment a = align_words(weights.data(), 4, 4, target, source);
  REQUIRE(a.target_words == 2);
  REQUIRE(a.source_words == 2);
  CHECK(a.at(0, 0) == Approx(0.75));
  CHECK(a.at(0, 1) == Approx(0.25));
  CHECK(a.at(1, 0) == Approx((0.125 + 0.375) / 2)); // mean of the two pieces' rows
  CHECK(a.at(1, 1) == Approx((0.875 + 0.625) / 2));

  CHECK(hard_alignment(a) == "0-0 1-1");
  CHECK(soft_alignment(a) == "0.75,0.25 0.25,0.75");
  CHECK(threshold_alignment(a, 0.25f) == "0-0 0-1 1-0 1-1");
  CHECK(threshold_alignment(a, 0.5f) == "0-0 1-1");
  CHECK(threshold_alignment(a, 1.f) == "");
  CHECK(format_alignment(a, AlignmentFormat::parse("soft")) == soft_alignment(a));

  SECTION("crossing alignments are sorted by source word, as Marian sorts them") {
    const PieceWords three = words_from_pieces({kSpace + "a", kSpace + "b", kSpace + "c"});
    const std::vector<float> crossing = {0, 0, 1, 1, 0, 0, 0, 1, 0};
    CHECK(hard_alignment(align_words(crossing.data(), 3, 3, three, three)) == "0-1 1-2 2-0");
  }
  SECTION("attention only on EOS spreads evenly; ties go to the first word") {
    const std::vector<float> eos_only = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    const WordAlignment even = align_words(eos_only.data(), 4, 4, target, source);
    CHECK(soft_alignment(even) == "0.5,0.5 0.5,0.5");
    CHECK(hard_alignment(even) == "0-0 0-1");
  }
  SECTION("the mean over layers and heads of a recorded map") {
    AttentionMap map;
    map.layers = {"0", "1"};
    map.heads = {"0"};
    map.weights.resize({2, 1, 4, 4});
    for (int64_t i = 0; i < 16; ++i) {
      map.weights[i] = 2 * weights[static_cast<size_t>(i)]; // mean of 2w and 0 is w
      map.weights[16 + i] = 0;
    }
    const WordAlignment b = align_words(map, {kSpace + "Zwei", kSpace + "Hund", "e", "</s>"},
                                        {kSpace + "Two", kSpace + "dog", "s", "</s>"});
    CHECK(soft_alignment(b) == soft_alignment(a));
  }
  SECTION("shapes must match the pieces") {
    CHECK_THROWS_AS(align_words(weights.data(), 3, 4, target, source), Error);
  }
}

TEST_CASE("alignment option values", "[attention-outputs]") {
  CHECK(AlignmentFormat::parse("hard").kind == AlignmentKind::hard);
  CHECK(AlignmentFormat::parse("soft").kind == AlignmentKind::soft);
  const AlignmentFormat t = AlignmentFormat::parse("0.3");
  CHECK(t.kind == AlignmentKind::threshold);
  CHECK(t.threshold == 0.3f);
  CHECK(AlignmentFormat::parse("1").threshold == 1.f);
  for (const std::string bad : {"0", "1.5", "-0.2", "0.3x", "", "nan", "Hard"})
    CHECK_THAT(error_of<OptionError>([&] { AlignmentFormat::parse(bad, "--alignment"); }),
               Catch::Equals("--alignment must be hard, soft or a "
                             "threshold in (0, 1], got '" +
                             bad + "'"));
}

TEST_CASE("HTML page embeds one map per layer and head with its labels", "[attention-outputs]") {
  const Fixture f;
  const std::string page = attention_html(f.sentences);
  // Self-contained: nothing fetched from elsewhere.
  CHECK(page.find("<script src") == std::string::npos);
  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("@import") == std::string::npos);

  // The "</script>" piece of sentence 7 must not end the element early.
  CHECK(page.find("\\u003c/script>") != std::string::npos);
  const json data = embedded_page_data(page);
  REQUIRE(data["sentences"].size() == 3);

  const json &maps = data["sentences"][0]["maps"];
  CHECK(maps.size() == 3);
  const json &cross = maps["cross"];
  CHECK(cross["layers"] == std::vector<std::string>{"0", "1"});
  CHECK(cross["heads"] == std::vector<std::string>{"0", "1", "2"});
  CHECK(cross["shape"] == std::vector<int64_t>{2, 3, 4, 4});
  CHECK(cross["queries"] == "target");
  CHECK(cross["keys"] == "source");
  // One 4 x 4 map per layer and head, flat, in [layer][head][query][key] order.
  REQUIRE(cross["weights"].size() == 2 * 3 * 4 * 4);
  for (size_t i = 0; i < cross["weights"].size(); ++i)
    CHECK(cross["weights"][i].get<double>() == static_cast<double>(i) + 0.5);
  CHECK(maps["encoder"]["layers"] == std::vector<std::string>{"mean"});
  CHECK(maps["decoder"]["heads"] == std::vector<std::string>{"max"});
  CHECK(maps["decoder"]["keys"] == "decoder_input");
  CHECK(data["sentences"][0]["tokens"]["target"]["words"] ==
        std::vector<std::string>{"Zwei", "Hunde"});
  CHECK(data["sentences"][1]["hypothesis"] == 1);
  CHECK(data["sentences"][2]["source"] == "Hi <b>");

  SECTION("weights are rounded to 4 decimals") {
    AttentionMaps maps_1;
    maps_1.cross = counting_map({"0"}, {"0"}, 1, 2);
    maps_1.cross->weights[0] = 0.123456f;
    maps_1.cross->weights[1] = 0.876544f;
    SentenceAttention s;
    s.source_pieces = {kSpace + "a", "</s>"};
    s.target_pieces = {"</s>"};
    s.maps = &maps_1;
    CHECK(attention_page_data({s}).find("\"weights\":[0.1235,0.8765]") != std::string::npos);
  }
}

TEST_CASE("a translation's recorded maps go through every output", "[attention-outputs]") {
  const auto model = MarianModel::load(std::string(HEED_TEST_DATA) + "/tiny-joint");
  TranslationOptions options;
  options.beam_size = 3;
  options.n_best = 2;
  options.attention.set_kinds("all");
  Translator translator(model, options);
  const std::vector<std::string> sources = {"Two dogs play in the snow.", ""};
  const auto translations = translator.translate(sources);

  const fs::path path = heed::test::temp_dir() / "translated.npz";
  auto writer = AttentionWriter::open(path.string());
  std::vector<SentenceAttention> all;
  for (size_t i = 0; i < sources.size(); ++i)
    for (const SentenceAttention &s :
         sentence_attentions(static_cast<int64_t>(i), sources[i], translations[i],
                             *model->tokenizer, model->config.decoder_start_token_id)) {
      writer->write(s); // checks every map against the pieces
      all.push_back(s);
    }
  writer->close();
  REQUIRE(all.size() == 4);      // 2 hypotheses of each line
  CHECK(all[2].maps == nullptr); // the blank line
  CHECK(all[2].target_pieces.empty());
  CHECK(all[0].hypothesis == 0);
  CHECK(all[1].hypothesis == 1);
  CHECK(all[0].source_pieces.back() == "</s>");
  CHECK(all[0].decoder_input_pieces.size() == all[0].target_pieces.size());

  const json index = json::parse(parse_zip(read_bytes(path)).at("index.json"));
  CHECK(index["sentences"][0]["maps"]["cross"]["file"] == "000000.cross.npy");
  CHECK(index["sentences"][1]["maps"]["cross"]["file"] == "000000-1.cross.npy");
  CHECK(index["sentences"][2]["index"] == 1);
  CHECK(index["sentences"][2]["maps"].empty());

  // One hard alignment pair per target word.
  const SentenceAttention &best = all[0];
  const WordAlignment a = align_words(*best.maps->cross, best.target_pieces, best.source_pieces);
  CHECK(a.source_words == 6);
  const std::string hard = hard_alignment(a);
  CHECK(static_cast<int64_t>(std::count(hard.begin(), hard.end(), '-')) == a.target_words);
  CHECK(embedded_page_data(attention_html(all))["sentences"].size() == all.size());
}

// Not run by default: writes a demonstration page with synthetic, alignment-like
// weights (heed's own trained model is not there yet) to $HEED_ATTENTION_DEMO,
// the page behind docs/attention.png.
TEST_CASE("attention page demo", "[.attention-demo]") {
  const char *out = std::getenv("HEED_ATTENTION_DEMO");
  REQUIRE(out != nullptr);
  const std::vector<std::string> source = {kSpace + "Two",
                                           kSpace + "dogs",
                                           kSpace + "play",
                                           kSpace + "in",
                                           kSpace + "the",
                                           kSpace + "snow",
                                           ".",
                                           "</s>"};
  const std::vector<std::string> target = {
      kSpace + "Zwei", kSpace + "Hund",   "e", kSpace + "spielen",
      kSpace + "im",   kSpace + "Schnee", ".", "</s>"};
  // The source piece each target piece mostly attends to.
  const std::vector<int> aligned = {0, 1, 1, 2, 3, 5, 6, 7};
  const int64_t layers = 6, heads = 8, q = 8, k = 8;
  AttentionMaps maps;
  maps.cross.emplace();
  for (int64_t l = 0; l < layers; ++l)
    maps.cross->layers.push_back(std::to_string(l));
  for (int64_t h = 0; h < heads; ++h)
    maps.cross->heads.push_back(std::to_string(h));
  maps.cross->weights.resize({layers, heads, q, k});
  uint32_t seed = 12345;
  auto noise = [&] {
    seed = seed * 1664525u + 1013904223u;
    return static_cast<float>(seed >> 8) / static_cast<float>(1 << 24);
  };
  for (int64_t l = 0; l < layers; ++l)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < q; ++i) {
        // Heads differ in what they follow: mostly the aligned word, else the
        // next word, the sentence end or nothing much; later layers are sharper.
        const int pattern = std::max(0, static_cast<int>((3 * h + l) % 8) - 4);
        const float sharpness = 1.5f + 0.6f * static_cast<float>(l);
        std::vector<float> logits(k);
        float total = 0;
        for (int64_t j = 0; j < k; ++j) {
          const int focus = pattern == 0   ? aligned[i]
                            : pattern == 1 ? std::min<int>(aligned[i] + 1, 7)
                            : pattern == 2 ? 7
                                           : -100;
          const float distance = std::abs(static_cast<float>(j - focus));
          logits[j] = std::exp(-sharpness * std::min(distance, 6.f) + 1.2f * noise());
          total += logits[j];
        }
        for (int64_t j = 0; j < k; ++j)
          maps.cross->weights[((l * heads + h) * q + i) * k + j] = logits[j] / total;
      }
  SentenceAttention s;
  s.source = "Two dogs play in the snow.";
  s.translation = "Zwei Hunde spielen im Schnee.";
  s.source_pieces = source;
  s.target_pieces = target;
  s.decoder_input_pieces = {"<pad>"};
  s.decoder_input_pieces.insert(s.decoder_input_pieces.end(), target.begin(), target.end() - 1);
  s.maps = &maps;
  write_attention_html(out, {s});
}
