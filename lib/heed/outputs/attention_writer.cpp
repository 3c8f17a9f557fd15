#include "heed/outputs/attention_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>

#include "heed/core/error.h"
#include "heed/io/atomic_file.h"
#include "heed/io/os_error.h"
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
  DirectoryWriter(const std::string &path, const AttentionResume *resume) : dir_(path) {
    // The directory itself, in an existing parent (io/output_path.h).
    std::error_code error;
    fs::create_directory(dir_, error);
    if (error || !fs::is_directory(dir_))
      throw IoError(path + ": cannot create the directory: " +
                    (error ? error.message() : "a file of that name exists"));
    final_path_ = (dir_ / kIndexName).string();
    partial_path_ = final_path_ + ".partial";
    if (resume == nullptr) {
      index_file_ = std::make_unique<io::OutputFile>(partial_path_, io::OutputFile::Mode::replace);
      index_ = std::make_unique<IndexStream>(file_sink(*index_file_));
    } else {
      // The kept entries are copied into a new partial index, which then
      // replaces the old one: whatever happens, one of them is whole.
      const std::string copy = partial_path_ + ".new";
      index_file_ = std::make_unique<io::OutputFile>(copy, io::OutputFile::Mode::replace);
      index_ = std::make_unique<IndexStream>(file_sink(*index_file_));
      keep_entries(*resume);
      index_file_->flush();
      io::rename_into_place(copy, partial_path_);
    }
    // An index.json of an earlier run would describe files this run replaces.
    if (::unlink(final_path_.c_str()) != 0 && errno != ENOENT)
      throw IoError(io::os_error(final_path_, "cannot remove the index of an earlier run"));
  }

  void write(const SentenceAttention &s) override {
    const auto maps = recorded_maps(s);
    for (const auto &m : maps)
      if (!stored_with_best(s, m))
        write_npy((dir_ / attention_file_name(s.index, s.hypothesis, m.kind, s.sentence)).string(),
                  m.map->weights.data(), m.map->weights.shape());
    index_->add(json_dump(index_entry(s, maps, true)));
  }

  void flush() override { index_file_->flush(); }

  void close() override {
    if (closed_)
      return;
    closed_ = true;
    index_->finish();
    index_file_->close();
    io::rename_into_place(partial_path_, final_path_);
  }

private:
  // Adds the entries of the lines kept from the index the interrupted run
  // left (its partial index, or the complete one of a finished run).
  void keep_entries(const AttentionResume &resume) {
    std::string source = partial_path_;
    if (!fs::exists(fs::symlink_status(source)))
      source = final_path_;
    std::set<int64_t> lines;
    if (fs::exists(fs::symlink_status(source))) {
      std::ifstream in(source);
      if (!in)
        throw IoError(io::os_error(source, "cannot open to resume"));
      std::string line;
      for (int opening_lines = 2; opening_lines > 0 && std::getline(in, line); --opening_lines) {
      }
      while (std::getline(in, line)) {
        if (!line.empty() && line.back() == ',')
          line.pop_back();
        // The closing bracket, or a line cut by the kill: the entries end.
        const nlohmann::json entry = nlohmann::json::parse(line, nullptr, false);
        if (entry.is_discarded() || !entry.is_object() || !entry.contains("index") ||
            !entry["index"].is_number_integer())
          break;
        const int64_t index = entry["index"].get<int64_t>();
        if (index >= resume.first_new_index)
          break;
        lines.insert(index);
        index_->add(line);
      }
    }
    if (static_cast<int64_t>(lines.size()) != resume.kept_lines)
      throw IoError(dir_.string() + ": its index holds the maps of " +
                    std::to_string(lines.size()) + " of the " + std::to_string(resume.kept_lines) +
                    " input lines the output holds: the attention maps cannot be resumed; start "
                    "over without resume");
  }

  fs::path dir_;
  std::string partial_path_, final_path_;
  std::unique_ptr<io::OutputFile> index_file_;
  std::unique_ptr<IndexStream> index_;
  bool closed_ = false;
};

class NpzWriter : public AttentionWriter {
public:
  explicit NpzWriter(const std::string &path)
      : path_(path), zip_(path + ".partial"), index_file_("the index of " + path),
        index_([this](std::string_view bytes) { index_file_.write(bytes); }) {}

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
    io::rename_into_place(path_ + ".partial", path_);
  }

private:
  std::string path_;
  ZipWriter zip_;
  TemporaryFile index_file_;
  IndexStream index_;
  bool closed_ = false;
};

class JsonWriter : public AttentionWriter {
public:
  explicit JsonWriter(const std::string &path)
      : path_(path), out_(path + ".partial", io::OutputFile::Mode::truncate),
        index_(file_sink(out_)) {}

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
    io::rename_into_place(path_ + ".partial", path_);
  }

private:
  std::string path_;
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

std::unique_ptr<AttentionWriter> AttentionWriter::open(const std::string &path,
                                                       const AttentionResume *resume) {
  const AttentionFileFormat format = attention_file_format(path);
  if (resume != nullptr && format != AttentionFileFormat::directory)
    throw OptionError("attention output '" + path +
                      "': only a directory of maps can be resumed; a .npz or .json file is "
                      "written whole at the end");
  switch (format) {
  case AttentionFileFormat::directory:
    return std::make_unique<DirectoryWriter>(path, resume);
  case AttentionFileFormat::npz:
    return std::make_unique<NpzWriter>(path);
  case AttentionFileFormat::json:
    return std::make_unique<JsonWriter>(path);
  }
  return nullptr;
}

} // namespace heed
