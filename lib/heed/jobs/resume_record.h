// The record of a run writing a file, kept beside it as "OUTPUT.heed-resume"
// (JSON) from the start of the run until it completes, so that `--resume`
// continues only what that run left unfinished: the same input (size and a
// CRC-32 of its first MiB: a copied or moved corpus still matches, an edited
// or another one does not) and the same settings that shape the output (model,
// format, search, limits, shard...; not threads or batch sizes, which change
// speed only). Written atomically (io/atomic_file.h), so a record is whole or
// absent. A completed run removes it: a file without a record is either
// complete or not heed's unfinished work, and is not appended to.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace heed {

struct ResumeRecord {
  // Settings that shape the output, by field name ("beam_size"), as text
  // ("default" for an unset optional).
  std::map<std::string, std::string> settings;
  // The input: "standard input" or the file's absolute path (informative: a
  // moved corpus may be resumed), and, when it is a regular file, its size in
  // bytes and the CRC-32 of its first MiB.
  std::string input;
  std::optional<int64_t> input_bytes;
  std::optional<uint32_t> input_head_crc32;
};

// "OUTPUT.heed-resume".
std::string resume_record_path(const std::string &output_path);

// The identity of the input `path` ("" or "-": standard input, read with
// pread so nothing is consumed) into `record`. Nothing is recorded for a pipe.
void record_input(const std::string &path, ResumeRecord &record);

// The record at `path`, or nothing when there is none. IoError naming the
// path when it exists but cannot be read or is not a record heed wrote.
std::optional<ResumeRecord> read_resume_record(const std::string &path);

// Atomically (a crash leaves the old record or the new one). IoError.
void write_resume_record(const std::string &path, const ResumeRecord &record);

// What differs between the record of the interrupted run and this one, one
// phrase per difference ("beam_size: 4 then, 5 now"); empty when they agree.
std::vector<std::string> resume_differences(const ResumeRecord &then, const ResumeRecord &now);

} // namespace heed
