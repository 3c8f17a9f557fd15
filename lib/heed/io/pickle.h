// A restricted unpickler for the pickles torch.save writes for a state dict
// (pytorch_model.bin, both serialisations): protocols 2 to 5, and only the
// opcodes and globals a dict of tensors needs. Nothing is ever called or
// imported: a GLOBAL is looked up in a fixed allow-list (collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 / _rebuild_parameter /
// _rebuild_parameter_with_state, torch's storage types and dtypes) and becomes
// an inert value; REDUCE is interpreted for those callables alone; a persistent
// id must be torch's ('storage', type, key, location, numel[, view]) tuple.
// Any other global, opcode or shape is refused with a ModelError naming the
// file, the pickle and the byte offset of the opcode at fault.
//
// The input is untrusted: every length is checked against the remaining bytes
// before anything is allocated, the number of values, the stack and the MARK
// nesting are bounded, and values are owned by one arena and referenced by
// pointer, so that BINGET of a large container shares it instead of copying it
// and a container holding itself leaks nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace heed::io::pickle {

enum class Kind : uint8_t {
  none,
  boolean,
  integer,     // fits int64
  big_integer, // LONG1 of more than 8 bytes: `text` holds its little-endian bytes
  floating,
  string, // UTF-8, as pickled (not validated)
  bytes,
  tuple,
  list,
  dict,    // dict or collections.OrderedDict
  global,  // an allowed global, `text` is "module name"
  storage, // a persistent id: `storage` is set
  tensor,  // a torch tensor rebuilt by _rebuild_tensor_v2: `tensor` is set
};

const char *kind_name(Kind kind);

struct Value;

// ('storage', torch.<Type>Storage or torch.<dtype>, key, location, numel[,
// view_metadata]) as torch's persistent_id writes it.
struct StorageRef {
  std::string type; // "FloatStorage", "HalfStorage", "float32", ...
  std::string key;
  std::string location;
  int64_t numel = 0; // elements of the (root) storage
  // The legacy format's view_metadata (view_key, offset, size), in elements
  // of the root storage; torch >= 1.0 never writes one.
  bool has_view = false;
  std::string view_key;
  int64_t view_offset = 0;
  int64_t view_size = 0;
};

// torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, ...),
// checked for shape only: the strides against the storage are the reader's.
struct TensorRef {
  const StorageRef *storage = nullptr;
  int64_t offset = 0; // elements
  std::vector<int64_t> shape;
  std::vector<int64_t> stride;
};

struct Value {
  Kind kind = Kind::none;
  bool boolean = false;
  int64_t integer = 0;
  double floating = 0;
  std::string text; // string, bytes, big_integer, global
  // tuple and list: the elements; dict: keys and values interleaved in
  // insertion order (a key set again keeps its place, as in Python).
  std::vector<Value *> items;
  uint64_t offset = 0; // where the value was made (for errors)
  StorageRef *storage = nullptr;
  TensorRef *tensor = nullptr;
  // A dict's key index (key text -> position in items) and, after BUILD, its
  // attributes (torch's state dict `_metadata`).
  std::unique_ptr<std::unordered_map<std::string, size_t>> keys;
  Value *attributes = nullptr;

  size_t dict_size() const { return items.size() / 2; }
  // The dict's value for the string key `key`, or null.
  const Value *find(const std::string &key) const;
};

// Where a pickle lies, for errors: "PATH: LABEL byte N: what".
struct Source {
  std::string path;           // the file
  std::string label;          // "archive/data.pkl", "pickle 4 of the legacy file"
  uint64_t base_offset = 0;   // added to offsets (a pickle inside a larger file)
  bool persistent_ids = true; // BINPERSID allowed (torch's storages)
};

struct Unpickled {
  const Value *root = nullptr;
  uint64_t end = 0; // bytes consumed, up to and including STOP
  std::deque<Value> values;
  std::deque<StorageRef> storages;
  std::deque<TensorRef> tensors;
};

// Bounds on what one pickle may make (far above a state dict's needs: a
// Marian model's data.pkl holds a few thousand values).
constexpr size_t kMaxValues = size_t{1} << 20;
constexpr size_t kMaxStack = size_t{1} << 20;
constexpr size_t kMaxMarks = 64;
constexpr size_t kMaxDims = 16;

// Reads one pickle from the start of [data, data + size), stopping after its
// STOP opcode (bytes after it are the caller's). ModelError as described above.
std::unique_ptr<Unpickled> unpickle(const uint8_t *data, size_t size, const Source &source);

// "PATH: LABEL byte N: what" (`offset` relative to the pickle).
std::string where(const Source &source, uint64_t offset);

} // namespace heed::io::pickle
