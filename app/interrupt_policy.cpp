#include "app/interrupt_policy.h"

#include <signal.h>

namespace heed::app {
namespace {

std::atomic<int> g_signal{0};
static_assert(std::atomic<int>::is_always_lock_free, "set from a signal handler");

void on_signal(int signal) { g_signal.store(signal); }

} // namespace

const std::atomic<int> *interrupt_flag() {
  static const bool installed = [] {
    struct sigaction action {};
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    // The handler runs once: the next such signal has its default effect.
    action.sa_flags = SA_RESETHAND | SA_RESTART;
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
    return true;
  }();
  (void)installed;
  return &g_signal;
}

int interrupting_signal() { return g_signal.load(); }

} // namespace heed::app
