// An advisory lock held on an output for the whole run, so that two runs
// writing (or resuming) the same file fail at once instead of interleaving
// their lines. The lock is a POSIX record lock (fcntl F_SETLK) on a lock file
// beside the output, "OUTPUT.heed-lock", which holds the owner's pid: the
// kernel releases the lock however the process ends (kill -9 included), so a
// lock file left by a killed run locks nothing, and the next run takes it
// over. Record locks also work on NFS (lockd / NFSv4), where cluster jobs
// write. The lock file is removed when the lock is released.
#pragma once

#include <string>

namespace heed::io {

class OutputLock {
public:
  // Locks `output_path` (a file or a directory, which need not exist yet).
  // IoError "OUTPUT: in use by another run (pid N, lock file L)" when another
  // process holds it; IoError naming the lock file and the system's reason
  // when it cannot be created.
  explicit OutputLock(const std::string &output_path);
  // Removes the lock file, then releases the lock.
  ~OutputLock();
  OutputLock(const OutputLock &) = delete;
  OutputLock &operator=(const OutputLock &) = delete;

  const std::string &lock_path() const { return lock_path_; }

private:
  std::string lock_path_;
  int fd_ = -1;
};

// "OUTPUT.heed-lock" ("dir/" names the lock "dir.heed-lock").
std::string lock_path_for(const std::string &output_path);

} // namespace heed::io
