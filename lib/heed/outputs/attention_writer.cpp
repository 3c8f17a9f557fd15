#include "heed/outputs/attention_writer.h"

#include <cstdio>
#include <filesystem>
#include <functional>

#include "heed/core/error.h"
#include "heed/io/output_file.h"
#include "heed/outputs/float_json.h"
#include "heed/outputs/npy.h"
#include "heed/outputs/temporary_file.h"
#include "heed/outputs/writers.h"
#include "heed/outputs/zip_writer.h"

namespace fs = std::filesystem;

namespace heed {

namespace {

const char *const kIndexName = "index.json";

// The index (and the .json document) is streamed: this opening, then one
// sentence per line separated by commas, then kIndexClosing.
const std::string kIndexOpening =
    "{\"format\":\"heed-attention\",\"version\":1,"
    "\"layout\":\"float32 [layers, heads, queries, keys], C order; each row is a probability "
    "distribution over keys. cross: target x source pieces; encoder: source x source; "
    "decoder: target x decoder_input pieces\",\n\"sentences\":[\n";
const std::string kIndexClosing = "\n]}\n";

// The encoder's self-attention depends on the source only: every hypothesis
// of an n-best list has the same map, stored once, with the best one
// (hypothesis 0); the others' index entries point there.
bool stored_with_best(const SentenceAttention &s, const NamedAttentionMap &m) {
  return m.kind == "encoder" && s.hypothesis > 0;
}

// The index entry of `s`: its description plus, per map, shape and labels
// (and the file holding it, unless `with_files` is false).
nlohmann::json index_entry(const SentenceAttention &s, const std::vector<NamedAttentionMap> &maps,
                           bool with_files) {
  nlohmann::json entry = describe_sentence(s);
  nlohmann::json described = nlohmann::json::object();
  for (const auto &m : maps) {
    nlohmann::json d = {{"shape", m.map->weights.shape()},
                        {"layers", m.map->layers},
                        {"heads", m.map->heads},
                        {"queries", m.queries},
                        {"keys", m.keys}};
    const bool shared = stored_with_best(s, m);
    if (shared)
      d["stored_with_hypothesis"] = 0;
    if (with_files)
      d["file"] = attention_file_name(s.index, shared ? 0 : s.hypothesis, m.kind, s.sentence);
    described[m.kind] = std::move(d);
  }
  entry["maps"] = std::move(described);
  return entry;
}

// The index text, passed to `sink` as sentences come: kIndexOpening, one
// sentence per line separated by commas, then kIndexClosing at finish().
class IndexStream {
public:
  using Sink = std::function<void(std::string_view)>;
  explicit IndexStream(Sink sink) : sink_(std::move(sink)) { sink_(kIndexOpening); }
  void add(const std::string &entry_text) {
    if (!first_)
      sink_(",\n");
    sink_(entry_text);
    first_ = false;
  }
  void finish() { sink_(kIndexClosing); }

private:
  Sink sink_;
  bool first_ = true;
};

// A sink writing to `out` (IoError naming its path when a write fails).
IndexStream::Sink file_sink(io::OutputFile &out) {
  return [&out](std::string_view bytes) { out.write(bytes); };
}

class DirectoryWriter : public AttentionWriter {
public:
  explicit DirectoryWriter(const std::string &path) : dir_(path) {
    // The directory itself, in an existing parent (io/output_path.h).
    std::error_code error;
    fs::create_directory(dir_, error);
    if (error || !fs::is_directory(dir_))
      throw IoError(path + ": cannot create the directory: " +
                    (error ? error.message() : "a file of that name exists"));
    // Written under a temporary name so an interrupted run leaves no index.json
    // that looks complete.
    partial_path_ = (dir_ / kIndexName).string() + ".partial";
    index_file_ = std::make_unique<io::OutputFile>(partial_path_, io::OutputFile::Mode::truncate);
    index_ = std::make_unique<IndexStream>(file_sink(*index_file_));
  }
  ~DirectoryWriter() override {
    try {
      close();
    } catch (...) {
    }
  }

  void write(const SentenceAttention &s) override {
    const auto maps = recorded_maps(s);
    for (const auto &m : maps)
      if (!stored_with_best(s, m))
        write_npy((dir_ / attention_file_name(s.index, s.hypothesis, m.kind, s.sentence)).string(),
                  m.map->weights.data(), m.map->weights.shape());
    index_->add(json_dump(index_entry(s, maps, true)));
  }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    index_->finish();
    index_file_->close();
    const fs::path final_path = dir_ / kIndexName;
    std::error_code error;
    fs::rename(partial_path_, final_path, error);
    if (error)
      throw IoError(final_path.string() + ": cannot rename " + partial_path_ +
                    " into place: " + error.message());
  }

private:
  fs::path dir_;
  std::string partial_path_;
  std::unique_ptr<io::OutputFile> index_file_;
  std::unique_ptr<IndexStream> index_;
  bool closed_ = false;
};

class NpzWriter : public AttentionWriter {
public:
  explicit NpzWriter(const std::string &path)
      : zip_(path), index_file_("the index of " + path),
        index_([this](std::string_view bytes) { index_file_.write(bytes); }) {}
  ~NpzWriter() override {
    try {
      close();
    } catch (...) {
    }
  }

  void write(const SentenceAttention &s) override {
    const auto maps = recorded_maps(s);
    for (const auto &m : maps)
      if (!stored_with_best(s, m))
        zip_.add(attention_file_name(s.index, s.hypothesis, m.kind, s.sentence),
                 npy_bytes(m.map->weights.data(), m.map->weights.shape()));
    index_.add(json_dump(index_entry(s, maps, true)));
  }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    index_.finish();
    // The index is complete only now; it goes in last, copied from its scratch file.
    zip_.begin_member(kIndexName);
    index_file_.read_all([this](std::string_view bytes) { zip_.append(bytes); });
    zip_.end_member();
    zip_.close();
  }

private:
  ZipWriter zip_;
  TemporaryFile index_file_;
  IndexStream index_;
  bool closed_ = false;
};

class JsonWriter : public AttentionWriter {
public:
  explicit JsonWriter(const std::string &path)
      : out_(path, io::OutputFile::Mode::truncate), index_(file_sink(out_)) {}
  ~JsonWriter() override {
    try {
      close();
    } catch (...) {
    }
  }

  void write(const SentenceAttention &s) override {
    const auto maps = recorded_maps(s);
    std::string text = json_dump(index_entry(s, maps, false));
    // nlohmann::json would print floats widened to double; the weights are
    // appended as text after the entry's other keys instead.
    text.pop_back(); // the entry's closing '}'
    text += ",\"weights\":{";
    bool first = true;
    for (const auto &m : maps) {
      if (stored_with_best(s, m))
        continue;
      text += (first ? "\"" : ",\"") + m.kind + "\":";
      append_nested_array_json(text, m.map->weights.data(), m.map->weights.shape());
      first = false;
    }
    text += "}}";
    index_.add(text);
  }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    index_.finish();
    out_.close();
  }

private:
  io::OutputFile out_;
  IndexStream index_;
  bool closed_ = false;
};

std::string lowercase(std::string s) {
  for (char &c : s)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return s;
}

} // namespace

AttentionFileFormat attention_file_format(const std::string &path, const std::string &what) {
  if (path.empty())
    throw OptionError(what + " needs a path: a directory, a .npz or a .json file");
  if (path.back() == '/')
    return AttentionFileFormat::directory;
  std::error_code error;
  if (fs::is_directory(path, error))
    return AttentionFileFormat::directory;
  const std::string extension = lowercase(fs::path(path).extension().string());
  if (extension.empty())
    return AttentionFileFormat::directory;
  if (extension == ".npz")
    return AttentionFileFormat::npz;
  if (extension == ".json")
    return AttentionFileFormat::json;
  throw OptionError(what + " '" + path + "': expected a directory, a .npz or a .json path, not '" +
                    extension + "'");
}

std::string attention_file_name(int64_t index, int64_t hypothesis, const std::string &kind,
                                int64_t sentence) {
  char stem[48];
  std::snprintf(stem, sizeof stem, "%06lld", static_cast<long long>(index));
  std::string name = stem;
  if (sentence >= 0)
    name += "_" + std::to_string(sentence);
  if (hypothesis > 0)
    name += "-" + std::to_string(hypothesis);
  return name + "." + kind + ".npy";
}

std::unique_ptr<AttentionWriter> AttentionWriter::open(const std::string &path) {
  switch (attention_file_format(path)) {
  case AttentionFileFormat::directory:
    return std::make_unique<DirectoryWriter>(path);
  case AttentionFileFormat::npz:
    return std::make_unique<NpzWriter>(path);
  case AttentionFileFormat::json:
    return std::make_unique<JsonWriter>(path);
  }
  return nullptr;
}

} // namespace heed
