// How long idle OpenMP threads spin before sleeping.
//
// GNU OpenMP spins waiting threads for 300,000 iterations by default. On a
// machine shared with other work a spinning thread burns the time slice its
// sibling needs to finish the parallel region. Measured with heed bench on the
// base-size model (2 cores, 2 threads, batch-1 greedy), 10,000 spins against
// the default: next to two busy processes 179 vs 105 target tokens/s (x1.7);
// idle 370 vs 378 and 458 vs 506 on two inputs (2-10% slower); passive
// waiting is x2.4 under load but x3.4 slower idle. libgomp reads the setting
// once, when it is loaded, before main() runs, so the only way to choose it for
// the user is to set GOMP_SPINCOUNT and start the process again.
#pragma once

namespace heed::app {

// Spin iterations heed asks for when the user chose nothing.
inline constexpr const char *kDefaultSpinCount = "10000";

// When neither OMP_WAIT_POLICY nor GOMP_SPINCOUNT is set: sets GOMP_SPINCOUNT
// and re-executes /proc/self/exe with the same arguments (never returns then).
// Returns when the user chose a policy, or when re-executing fails.
void apply_thread_wait_policy(char **argv);

} // namespace heed::app
