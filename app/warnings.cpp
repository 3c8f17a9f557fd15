#include "app/warnings.h"

#include <iostream>

#include "heed/io/printable.h"

namespace heed::app {
namespace {

int64_t g_count = 0;
bool g_silent = false;

} // namespace

void warn(const std::string &message) {
  if (g_silent)
    return;
  ++g_count;
  if (g_count <= kWarningsShown)
    std::cerr << "heed: warning: " << io::printable(message, 4096) << '\n';
  else if (g_count == kWarningsShown + 1)
    std::cerr << "heed: warning: more than " << kWarningsShown
              << " warnings: the rest are counted, not shown\n";
}

void silence_warnings() { g_silent = true; }

void finish_warnings() {
  if (g_count > kWarningsShown)
    std::cerr << "heed: warning: " << g_count - kWarningsShown << " more warning"
              << (g_count - kWarningsShown == 1 ? "" : "s") << " not shown\n";
}

} // namespace heed::app
