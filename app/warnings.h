// Warnings on stderr, one line each ("heed: warning: MESSAGE"). The first
// kWarningsShown are printed in full; later ones are only counted, and
// finish_warnings() says how many were not shown, so a corpus of binary junk
// gives a screenful, not a line per input line. --quiet silences them all.
#pragma once

#include <cstdint>
#include <string>

namespace heed::app {

constexpr int64_t kWarningsShown = 10;

void warn(const std::string &message);
// --quiet: no warnings at all (errors are still printed).
void silence_warnings();
// "heed: warning: N more warnings not shown" when some were held back.
void finish_warnings();

} // namespace heed::app
