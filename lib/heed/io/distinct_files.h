// Refusing a run whose output would overwrite one of its inputs or another of
// its outputs: `-i a.txt -o a.txt` (the output is truncated before the input
// is read), the same through a symlink, a hard link or another spelling of the
// path, `-o a.txt < a.txt`, `-i x --attention x`. Files are compared the way
// the kernel identifies them, device and inode after following symlinks; an
// output that does not exist yet is compared by its absolute, normalised path
// (two outputs given the same new name). Standard input and output take part
// when they are regular files or directories (a shell redirection), so that
// `heed translate -i a.txt >> a.txt` is caught too. Called before anything is
// opened for writing.
#pragma once

#include <string>
#include <vector>

namespace heed::io {

struct NamedPath {
  std::string role; // what the path is to the run, for messages: "input", "output", ...
  std::string path; // "" or "-" for standard input (an input) or output (an output)
};

// OptionError "output 'b' is the same file as input 'a': ..." (or "... as
// output '...'") for the first output that is an input or another output.
// Paths that cannot be examined (missing inputs, unreadable directories) are
// left to the code that opens them.
void check_distinct_files(const std::vector<NamedPath> &inputs,
                          const std::vector<NamedPath> &outputs);

} // namespace heed::io
