#include "heed/jobs/resume_record.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/atomic_file.h"
#include "heed/io/input_file.h"
#include "heed/io/json_fields.h"

namespace heed {
namespace {

constexpr const char *kFormat = "heed-resume";
constexpr int kVersion = 1;
constexpr size_t kHeadBytes = 1 << 20;

// Size and CRC-32 of the first MiB of the regular file open on `fd`.
void fingerprint(int fd, ResumeRecord &record) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return;
  std::vector<unsigned char> head(kHeadBytes);
  size_t got = 0;
  while (got < head.size()) {
    const ssize_t n = ::pread(fd, head.data() + got, head.size() - got, static_cast<off_t>(got));
    if (n <= 0)
      break;
    got += static_cast<size_t>(n);
  }
  record.input_bytes = static_cast<int64_t>(st.st_size);
  record.input_head_crc32 =
      static_cast<uint32_t>(::crc32(::crc32(0, nullptr, 0), head.data(), static_cast<uInt>(got)));
}

} // namespace

std::string resume_record_path(const std::string &output_path) {
  return output_path + ".heed-resume";
}

void record_input(const std::string &path, ResumeRecord &record) {
  if (io::is_standard_stream(path)) {
    record.input = "standard input";
    fingerprint(STDIN_FILENO, record);
    return;
  }
  std::error_code error;
  const auto absolute = std::filesystem::absolute(path, error);
  record.input = error ? path : absolute.lexically_normal().string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return; // opening the input reports it
  fingerprint(fd, record);
  ::close(fd);
}

std::optional<ResumeRecord> read_resume_record(const std::string &path) {
  std::error_code error;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, error)))
    return std::nullopt;
  nlohmann::json j;
  try {
    j = io::read_json_file(path);
  } catch (const ModelError &e) { // the reader speaks of model files
    throw IoError(std::string("the record of the interrupted run: ") + e.what());
  }
  ResumeRecord record;
  try {
    if (j.at("format") != kFormat || j.at("version") != kVersion)
      throw IoError(path + ": not a record of a heed run (format " + j.at("format").dump() +
                    ", version " + j.at("version").dump() + ")");
    for (const auto &[key, value] : j.at("settings").items())
      record.settings[key] = value.get<std::string>();
    const auto &input = j.at("input");
    record.input = input.at("path").get<std::string>();
    if (input.contains("bytes"))
      record.input_bytes = input.at("bytes").get<int64_t>();
    if (input.contains("head_crc32"))
      record.input_head_crc32 = input.at("head_crc32").get<uint32_t>();
  } catch (const nlohmann::json::exception &e) {
    throw IoError(path + ": not a record of a heed run: " + e.what());
  }
  return record;
}

void write_resume_record(const std::string &path, const ResumeRecord &record) {
  nlohmann::json input = {{"path", record.input}};
  if (record.input_bytes)
    input["bytes"] = *record.input_bytes;
  if (record.input_head_crc32)
    input["head_crc32"] = *record.input_head_crc32;
  const nlohmann::json j = {
      {"format", kFormat}, {"version", kVersion}, {"input", input}, {"settings", record.settings}};
  io::write_file_atomically(path, j.dump(2) + "\n");
}

std::vector<std::string> resume_differences(const ResumeRecord &then, const ResumeRecord &now) {
  std::vector<std::string> differences;
  const auto text = [](const auto &value) {
    return value ? std::to_string(*value) : std::string("unknown");
  };
  if (then.input_bytes != now.input_bytes)
    differences.push_back("the input's size: " + text(then.input_bytes) + " bytes then, " +
                          text(now.input_bytes) + " now");
  else if (then.input_head_crc32 != now.input_head_crc32)
    differences.push_back("the input's content: its first MiB has changed");
  for (const auto &[key, value] : then.settings) {
    const auto it = now.settings.find(key);
    const std::string current = it == now.settings.end() ? "unset" : it->second;
    if (current != value)
      differences.push_back(key + ": " + value + " then, " + current + " now");
  }
  for (const auto &[key, value] : now.settings)
    if (then.settings.count(key) == 0)
      differences.push_back(key + ": unset then, " + value + " now");
  return differences;
}

} // namespace heed
