// The restricted unpickler of pytorch_model.bin. Whatever the bytes, it must
// refuse them with a ModelError or return a value graph whose every pointer is
// into its own arena: the graph is walked in full (cycles included, each value
// once) so that AddressSanitizer sees any dangling reference.
#include <cstddef>
#include <cstdint>
#include <unordered_set>
#include <vector>

#include "fuzz_check.h"
#include "heed/core/error.h"
#include "heed/io/pickle.h"

using heed::io::pickle::Kind;
using heed::io::pickle::Value;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const heed::io::pickle::Source source{"fuzz.pkl", "data.pkl", 0, true};
  try {
    const auto p = heed::io::pickle::unpickle(data, size, source);
    FUZZ_CHECK(p->root != nullptr);
    FUZZ_CHECK(p->end >= 1 && p->end <= size && data[p->end - 1] == '.');
    FUZZ_CHECK(p->values.size() <= heed::io::pickle::kMaxValues);
    std::unordered_set<const Value *> seen;
    std::vector<const Value *> todo{p->root};
    while (!todo.empty()) {
      const Value *v = todo.back();
      todo.pop_back();
      if (!seen.insert(v).second)
        continue;
      if (v->kind == Kind::dict)
        FUZZ_CHECK(v->items.size() % 2 == 0);
      if (v->kind == Kind::tensor) {
        FUZZ_CHECK(v->tensor != nullptr && v->tensor->storage != nullptr);
        FUZZ_CHECK(v->tensor->shape.size() == v->tensor->stride.size());
        FUZZ_CHECK(v->tensor->offset >= 0 && v->tensor->storage->numel >= 0);
      }
      if (v->kind == Kind::storage)
        FUZZ_CHECK(v->storage != nullptr);
      for (const Value *item : v->items)
        todo.push_back(item);
      if (v->attributes != nullptr)
        todo.push_back(v->attributes);
    }
    FUZZ_CHECK(seen.size() <= p->values.size());
  } catch (const heed::ModelError &) {
    // A refusal with a message is the expected outcome for most inputs.
  }
  return 0;
}
