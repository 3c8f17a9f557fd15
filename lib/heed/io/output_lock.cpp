#include "heed/io/output_lock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "heed/core/error.h"
#include "heed/io/os_error.h"

namespace heed::io {
namespace {

// The pid holding a write lock on `fd`'s file, 0 if none (or unknown: a lock
// held on another NFS client reports no local pid).
pid_t lock_holder(int fd) {
  struct flock probe {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  if (::fcntl(fd, F_GETLK, &probe) != 0 || probe.l_type == F_UNLCK)
    return 0;
  return probe.l_pid;
}

} // namespace

std::string lock_path_for(const std::string &output_path) {
  std::string base = output_path;
  while (base.size() > 1 && base.back() == '/')
    base.pop_back();
  return base + ".heed-lock";
}

OutputLock::OutputLock(const std::string &output_path) : lock_path_(lock_path_for(output_path)) {
  // A run that held the lock may remove the lock file between our open and
  // our lock: then we hold a lock on a file nobody else will open. Checking
  // that the path still names the locked file closes that gap.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
      throw IoError(os_error(lock_path_, "cannot create the lock file of " + output_path));
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    if (::fcntl(fd, F_SETLK, &lock) != 0) {
      const int error = errno;
      const pid_t holder = error == EACCES || error == EAGAIN ? lock_holder(fd) : 0;
      ::close(fd);
      if (error != EACCES && error != EAGAIN)
        throw IoError(os_error(lock_path_, "cannot lock", error));
      throw IoError(output_path + ": in use by another run (" +
                    (holder > 0 ? "pid " + std::to_string(holder) : std::string("a process")) +
                    " holds the lock file " + lock_path_ + "); wait for it to end or stop it");
    }
    struct stat locked {
    }, named{};
    if (::fstat(fd, &locked) == 0 && ::stat(lock_path_.c_str(), &named) == 0 &&
        locked.st_dev == named.st_dev && locked.st_ino == named.st_ino) {
      const std::string pid = std::to_string(::getpid()) + "\n";
      // The pid is for people reading the file; the lock itself is what counts.
      if (::ftruncate(fd, 0) == 0) {
        [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
      }
      fd_ = fd;
      return;
    }
    ::close(fd);
  }
  throw IoError(lock_path_ + ": cannot lock: the lock file keeps being replaced");
}

OutputLock::~OutputLock() {
  if (fd_ < 0)
    return;
  // Removed while still locked, so no other run can lock this file after we
  // let go of it (it would find the path gone and retry).
  ::unlink(lock_path_.c_str());
  ::close(fd_);
}

} // namespace heed::io
