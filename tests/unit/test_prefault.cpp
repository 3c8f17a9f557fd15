// core/prefault.h: pages made resident before the writes that fill them.
#include <catch2/catch.hpp>

#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>

#include "heed/core/prefault.h"

namespace {

// Residency of each page of [data, data + pages * page), as mincore() reports it.
std::vector<bool> residency(void *data, size_t pages) {
  std::vector<unsigned char> flags(pages);
  REQUIRE(::mincore(data, pages * static_cast<size_t>(sysconf(_SC_PAGESIZE)), flags.data()) == 0);
  std::vector<bool> resident(pages);
  for (size_t p = 0; p < pages; ++p)
    resident[p] = (flags[p] & 1u) != 0;
  return resident;
}

// Whether the running kernel has MADV_POPULATE_WRITE (Linux 5.14).
bool kernel_populates() {
  utsname name{};
  REQUIRE(::uname(&name) == 0);
  int major = 0, minor = 0;
  if (std::sscanf(name.release, "%d.%d", &major, &minor) != 2)
    return false;
  return major > 5 || (major == 5 && minor >= 14);
}

size_t count(const std::vector<bool> &resident) {
  size_t n = 0;
  for (bool r : resident)
    n += r;
  return n;
}

} // namespace

TEST_CASE("prefault_for_writing makes the whole pages inside a range resident, no more", "[core]") {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE)), pages = 64;
  void *mapped =
      ::mmap(nullptr, pages * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  REQUIRE(mapped != MAP_FAILED);
  auto *base = static_cast<std::byte *>(mapped);
  REQUIRE(count(residency(base, pages)) == 0);

  // From the middle of page 1 to the middle of page 60: pages 2-59 are whole.
  heed::prefault_for_writing(base + page + page / 2, 59 * page);
  const std::vector<bool> resident = residency(base, pages);
  if (!kernel_populates()) {
    ::munmap(mapped, pages * page);
    WARN("skipped: this kernel does not populate pages on request (MADV_POPULATE_WRITE needs "
         "Linux 5.14)");
    return;
  }
  CHECK(count(resident) == 58);
  CHECK_FALSE(resident[1]); // the partial pages at either end are left alone
  CHECK_FALSE(resident[60]);
  for (size_t p = 2; p < 60; ++p)
    CHECK(resident[p]);
  // The pages hold zeros, as if they had faulted in, and take writes.
  CHECK(base[2 * page] == std::byte{0});
  std::memset(base, 1, pages * page);
  CHECK(base[pages * page - 1] == std::byte{1});
  ::munmap(mapped, pages * page);

  // Nothing to do: no pointer, no bytes, or less than one whole page.
  heed::prefault_for_writing(nullptr, 1 << 20);
  std::vector<std::byte> small(page / 2);
  heed::prefault_for_writing(small.data(), 0);
  heed::prefault_for_writing(small.data(), small.size());
}
