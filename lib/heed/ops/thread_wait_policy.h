// How long idle OpenMP threads spin before sleeping.
//
// GNU OpenMP spins waiting threads for about 300,000 iterations by default.
// On a machine shared with other work that is ruinous: a spinning thread
// burns the time slice its sibling needs to finish the parallel region, and
// heed measured 250-1000x slower on a tiny model next to a busy process.
// A short spin keeps most of the benefit on an idle machine. libgomp reads the
// setting once, when it is loaded, before main() runs, so the only way to
// choose it for the user is to set GOMP_SPINCOUNT and start the process again.
#pragma once

namespace heed::ops {

// Spin iterations heed asks for when the user chose nothing.
inline constexpr const char *kDefaultSpinCount = "10000";

// When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: sets GOMP_SPINCOUNT
// and re-executes /proc/self/exe with the same arguments (never returns then).
// Returns when the user chose a policy, or when re-executing fails.
void apply_thread_wait_policy(char **argv);

} // namespace heed::ops
