// Ctrl-C (SIGINT) and SIGTERM during a translation: the first asks the run to
// stop after the batch in progress, so that it can close its outputs (every
// line in them complete, the attention index written) and say how far it got
// and how to continue; a second one ends the process at once, as usual. A
// process policy, so the program's: the library only reads the flag.
#pragma once

#include <atomic>

namespace heed::app {

// Installs the handlers (once) and returns the flag they set: the signal's
// number, 0 while none came.
const std::atomic<int> *interrupt_flag();

// Thrown by a command whose run stopped on that flag; main() exits with
// 128 + the signal's number, as a shell reports a process killed by it.
struct Interrupted {};

// The signal that interrupted the run, 0 if none.
int interrupting_signal();

} // namespace heed::app
