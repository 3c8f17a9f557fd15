// When freed memory goes back to the operating system.
//
// glibc raises its mmap threshold to the size of any large block that is
// freed (up to 32 MiB), and its trim threshold to twice that. Loading a model
// frees many large temporaries (each weight as read, before packing), so
// after the first one every later temporary comes from the heap and stays
// there: the peak RSS of loading the base-size model in int8 was 198 MB for
// 53 MB of packed weights. Fixed thresholds (blocks of 1 MiB and more mapped
// on their own, heap tops above 16 MiB trimmed) bring that to 138 MB, and
// translating 1000 lines (batch 32, beam 4) from 322 to 274 MB in int8 and
// 490 to 429 MB in float32, at the same speed. The decoding loop's large
// buffers (activations, caches, oneDNN scratch) are allocated once and reused;
// what it still allocates each step is small (beam search copies each beam's
// token and row vectors), far below the 1 MiB mapping threshold, so it is
// served from the heap and never pays for giving memory back sooner.
#pragma once

namespace heed::app {

// Sets those thresholds for the whole process (a no-op without glibc's
// mallopt). A process policy, so the program's and not the library's: call it
// first thing in main(), before any large allocation.
void apply_memory_release_policy();

} // namespace heed::app
