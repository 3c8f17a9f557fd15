#include "heed/io/pytorch_checkpoint.h"

#include <cstring>
#include <map>
#include <set>
#include <vector>

#include "heed/core/error.h"
#include "heed/io/mapped_file.h"
#include "heed/io/pickle.h"
#include "heed/io/printable.h"
#include "heed/io/zip_archive.h"

namespace heed::io {
namespace {

using pickle::Kind;
using pickle::StorageRef;
using pickle::TensorRef;
using pickle::Unpickled;
using pickle::Value;

[[noreturn]] void fail(const std::string &path, const std::string &what) {
  throw ModelError(path + ": " + what);
}

// torch's storage types and dtypes that heed reads.
bool storage_dtype(const std::string &type, DType &dtype) {
  if (type == "FloatStorage" || type == "float32" || type == "float") {
    dtype = DType::f32;
    return true;
  }
  if (type == "HalfStorage" || type == "float16" || type == "half") {
    dtype = DType::f16;
    return true;
  }
  if (type == "BFloat16Storage" || type == "bfloat16") {
    dtype = DType::bf16;
    return true;
  }
  return false;
}

// One storage of the file (a persistent id's root key).
struct Storage {
  std::string key;
  DType dtype = DType::f32;
  uint64_t numel = 0;                         // elements
  uint64_t bytes = 0;                         // numel * dtype size
  const uint8_t *data = nullptr;              // its bytes once at hand
  const ZipArchive::Member *member = nullptr; // zip: where they are
  std::vector<uint8_t> loaded;                // zip: read for views
  bool listed = false;                        // legacy: named by the key list
};

struct Entry {
  std::string name;
  const TensorRef *tensor = nullptr;
};

struct StateDict {
  std::vector<Entry> entries;
  std::map<std::string, Storage> storages;
};

std::string tensor_where(const std::string &name) { return "tensor '" + printable(name) + "'"; }

// The root of the pickle as a state dict: an OrderedDict (or dict) of names
// to tensors; every storage named by a persistent id is listed, with one type
// and size per key.
StateDict read_state_dict(const Unpickled &p, const pickle::Source &source) {
  const std::string &path = source.path;
  const Value *root = p.root;
  if (root->kind != Kind::dict)
    fail(path, source.label + " holds a " + pickle::kind_name(root->kind) +
                   ", not a state dict (a dict of tensors, as torch.save(model.state_dict()) "
                   "writes)");
  StateDict sd;
  for (size_t i = 0; i + 1 < root->items.size(); i += 2) {
    const Value *key = root->items[i];
    const Value *value = root->items[i + 1];
    if (key->kind != Kind::string)
      fail(path, source.label + ": a state dict key is a " + pickle::kind_name(key->kind) +
                     ", not a tensor name");
    if (value->kind != Kind::tensor)
      fail(path, "state dict entry '" + printable(key->text) + "' is a " +
                     pickle::kind_name(value->kind) +
                     ", not a tensor: heed reads a plain state dict of tensors "
                     "(torch.save(model.state_dict()), as transformers saves), not a training "
                     "checkpoint or a nested dict");
    sd.entries.push_back({key->text, value->tensor});
  }
  if (sd.entries.empty())
    fail(path, "the state dict holds no tensors");
  // dtypes, named by tensor first.
  for (const Entry &e : sd.entries) {
    DType dtype;
    if (!storage_dtype(e.tensor->storage->type, dtype))
      fail(path, tensor_where(e.name) + " has storage type " + printable(e.tensor->storage->type) +
                     " (heed reads float32, float16 and bfloat16 tensors)");
  }
  for (const StorageRef &ref : p.storages) {
    DType dtype;
    if (!storage_dtype(ref.type, dtype))
      fail(path, "storage '" + printable(ref.key) + "' has type " + printable(ref.type) +
                     " (heed reads float32, float16 and bfloat16 tensors)");
    if (ref.key.empty() || ref.key.find_first_of(std::string("/\\\0", 3)) != std::string::npos ||
        ref.key == "." || ref.key == "..")
      fail(path, "storage key '" + printable(ref.key) + "' is not a plain name");
    const uint64_t numel = static_cast<uint64_t>(ref.numel);
    auto [it, added] = sd.storages.try_emplace(ref.key);
    Storage &s = it->second;
    if (added) {
      s.key = ref.key;
      s.dtype = dtype;
      s.numel = numel;
      if (numel > UINT64_MAX / dtype_size(dtype))
        fail(path, "storage '" + printable(ref.key) + "' claims an impossible " +
                       std::to_string(numel) + " elements");
      s.bytes = numel * dtype_size(dtype);
    } else if (s.dtype != dtype || s.numel != numel) {
      fail(path, "storage '" + printable(ref.key) + "' is named as " + dtype_name(s.dtype) +
                     " of " + std::to_string(s.numel) + " elements and as " + dtype_name(dtype) +
                     " of " + std::to_string(numel));
    }
    if (ref.has_view &&
        (static_cast<uint64_t>(ref.view_offset) > numel ||
         static_cast<uint64_t>(ref.view_size) > numel - static_cast<uint64_t>(ref.view_offset)))
      fail(path, "storage view '" + printable(ref.view_key) + "' of [" +
                     std::to_string(ref.view_offset) + ", +" + std::to_string(ref.view_size) +
                     ") lies outside storage '" + printable(ref.key) + "' of " +
                     std::to_string(numel) + " elements");
  }
  return sd;
}

// Where a tensor's elements lie in its root storage, checked.
struct View {
  uint64_t base = 0;  // first element, in the root storage
  uint64_t numel = 0; // elements of the tensor
  bool contiguous = true;
  bool whole = false; // the tensor is its whole storage, contiguous
};

View check_view(const std::string &path, const Entry &e, const Storage &s) {
  const TensorRef &t = *e.tensor;
  const StorageRef &ref = *t.storage;
  // The storage the tensor sees: the root or (legacy) a view of it.
  const uint64_t window_begin = ref.has_view ? static_cast<uint64_t>(ref.view_offset) : 0;
  const uint64_t window = ref.has_view ? static_cast<uint64_t>(ref.view_size) : s.numel;
  View v;
  v.numel = 1;
  for (int64_t d : t.shape) {
    const uint64_t u = static_cast<uint64_t>(d);
    if (u != 0 && v.numel > UINT64_MAX / u)
      fail(path, tensor_where(e.name) + " has an impossible size");
    v.numel *= u;
  }
  const uint64_t offset = static_cast<uint64_t>(t.offset);
  if (v.numel == 0) {
    v.base = 0;
    return v;
  }
  // The last element the view touches, offset + sum((size - 1) * stride),
  // must lie inside the storage; each step is checked against it so nothing
  // overflows.
  if (offset >= window)
    fail(path, tensor_where(e.name) + " starts at element " + std::to_string(offset) +
                   " of a storage of " + std::to_string(window) + " elements");
  uint64_t last = offset;
  uint64_t expected = 1; // the contiguous stride of the current dimension
  for (size_t i = t.shape.size(); i-- > 0;) {
    const uint64_t size = static_cast<uint64_t>(t.shape[i]);
    const uint64_t stride = static_cast<uint64_t>(t.stride[i]);
    if (size > 1 && stride != expected)
      v.contiguous = false;
    if (size > 1 && stride > 0) {
      const uint64_t room = window - 1 - last;
      if (size - 1 > room / stride)
        fail(path, tensor_where(e.name) + " of size " + std::to_string(v.numel) +
                       " elements at offset " + std::to_string(offset) +
                       " with its strides reaches past its storage of " + std::to_string(window) +
                       " elements");
      last += (size - 1) * stride;
    }
    expected *= size; // <= numel: no overflow
  }
  if (v.numel > window)
    fail(path, tensor_where(e.name) + " has " + std::to_string(v.numel) +
                   " elements, more than its storage's " + std::to_string(window) +
                   " (overlapping strides are not supported)");
  v.base = window_begin + offset;
  v.whole = v.contiguous && v.base == 0 && v.numel == s.numel;
  return v;
}

// Copies the strided view into a contiguous buffer.
void gather(const uint8_t *src, const TensorRef &t, uint64_t base, size_t esize, uint8_t *out) {
  const size_t ndim = t.shape.size();
  if (ndim == 0) {
    std::memcpy(out, src + base * esize, esize);
    return;
  }
  const uint64_t inner = static_cast<uint64_t>(t.shape[ndim - 1]);
  const uint64_t inner_stride = static_cast<uint64_t>(t.stride[ndim - 1]);
  std::vector<uint64_t> index(ndim, 0);
  uint64_t outer = 1;
  for (size_t i = 0; i + 1 < ndim; ++i)
    outer *= static_cast<uint64_t>(t.shape[i]);
  for (uint64_t row = 0; row < outer; ++row) {
    uint64_t start = base;
    for (size_t i = 0; i + 1 < ndim; ++i)
      start += index[i] * static_cast<uint64_t>(t.stride[i]);
    if (inner_stride == 1 || inner == 1) {
      std::memcpy(out, src + start * esize, inner * esize);
      out += inner * esize;
    } else {
      for (uint64_t j = 0; j < inner; ++j, out += esize)
        std::memcpy(out, src + (start + j * inner_stride) * esize, esize);
    }
    for (size_t i = ndim - 1; i-- > 0;) { // odometer over the outer dimensions
      if (++index[i] < static_cast<uint64_t>(t.shape[i]))
        break;
      index[i] = 0;
    }
  }
}

// Makes the tensors: each storage a tensor uses whole is read once straight
// into that tensor's buffer; identical views are aliased; other views are
// copied out of their storage, at most as many bytes in all as the file holds.
// `load` fetches a storage's bytes when they are not at hand yet.
template <class Load>
std::unique_ptr<TensorBuffers> build(const std::string &path, const char *format,
                                     uint64_t file_bytes, StateDict &sd, Load load) {
  auto out = std::make_unique<TensorBuffers>(path, format, file_bytes);
  struct Plan {
    const Entry *entry;
    Storage *storage;
    View view;
    std::string identity; // storage key, base, size and stride
  };
  std::vector<Plan> plans;
  plans.reserve(sd.entries.size());
  std::set<std::string> names;
  for (const Entry &e : sd.entries) {
    Storage &s = sd.storages.at(e.tensor->storage->key);
    Plan p{&e, &s, check_view(path, e, s), {}};
    p.identity = s.key + "@" + std::to_string(p.view.base);
    for (size_t i = 0; i < e.tensor->shape.size(); ++i) // a size-1 dimension's stride is moot
      p.identity += "," + std::to_string(e.tensor->shape[i]) + ":" +
                    std::to_string(e.tensor->shape[i] == 1 ? 0 : e.tensor->stride[i]);
    plans.push_back(std::move(p));
  }
  std::map<std::string, std::string> made; // identity -> the tensor holding it
  std::set<std::string> read;              // storages read whole into a tensor
  // Bytes copied beyond each storage's first reading: views, and tensors of
  // one storage under different shapes. At most the file's size in all, so
  // that a small file cannot make many copies of one storage.
  uint64_t copied = 0;
  auto budget = [&](const Plan &p, uint64_t bytes) {
    if (bytes > file_bytes - copied)
      fail(path, tensor_where(p.entry->name) +
                     ": the tensors sharing storages would copy more bytes than the file holds");
    copied += bytes;
  };
  // Whole storages first: their bytes then serve the views of them too.
  for (const Plan &p : plans) {
    if (!p.view.whole || made.count(p.identity))
      continue;
    Storage &s = *p.storage;
    std::vector<uint8_t> bytes;
    if (!read.insert(s.key).second) {
      budget(p, s.bytes);
      bytes.assign(s.data, s.data + s.bytes);
    } else if (s.data != nullptr) {
      bytes.assign(s.data, s.data + s.bytes);
    } else {
      bytes = load(s);
    }
    out->add(p.entry->name, s.dtype, p.entry->tensor->shape, std::move(bytes));
    s.data = out->get(p.entry->name).data;
    made.emplace(p.identity, p.entry->name);
  }
  for (const Plan &p : plans) {
    if (made.count(p.identity))
      continue;
    Storage &s = *p.storage;
    const size_t esize = dtype_size(s.dtype);
    const uint64_t bytes = p.view.numel * esize; // <= the storage's bytes
    budget(p, bytes);
    if (s.data == nullptr && bytes > 0) {
      s.loaded = load(s);
      s.data = s.loaded.data();
    }
    std::vector<uint8_t> buffer(bytes);
    if (bytes > 0)
      gather(s.data, *p.entry->tensor, p.view.base, esize, buffer.data());
    out->add(p.entry->name, s.dtype, p.entry->tensor->shape, std::move(buffer));
    made.emplace(p.identity, p.entry->name);
  }
  for (const Plan &p : plans)
    if (!out->contains(p.entry->name))
      out->alias(p.entry->name, made.at(p.identity));
  return out;
}

bool is_decimal(const std::vector<uint8_t> &bytes) {
  size_t n = bytes.size();
  while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r'))
    --n;
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; ++i)
    if (bytes[i] < '0' || bytes[i] > '9')
      return false;
  return true;
}

} // namespace

std::unique_ptr<TensorBuffers> read_pytorch_zip(const std::string &path) {
  const ZipArchive zip(path);
  // ARCHIVE/data.pkl: the one member called data.pkl one folder down.
  const ZipArchive::Member *pkl = nullptr;
  for (const auto &m : zip.members()) {
    const size_t slash = m.name.find('/');
    if (slash == std::string::npos || m.name.compare(slash + 1, std::string::npos, "data.pkl") != 0)
      continue;
    if (pkl != nullptr)
      fail(path, "holds both '" + printable(pkl->name) + "' and '" + printable(m.name) +
                     "': which is the state dict?");
    pkl = &m;
  }
  if (pkl == nullptr)
    fail(path, "a zip archive without ARCHIVE/data.pkl: not a PyTorch checkpoint");
  const std::string prefix = pkl->name.substr(0, pkl->name.size() - std::strlen("data.pkl"));
  for (const char *name : {"version", ".data/version"})
    if (const auto *m = zip.find(prefix + name))
      if (m->size > 64 || !is_decimal(zip.read(*m)))
        fail(path, "zip member '" + printable(m->name) + "' is not a format version number");
  if (const auto *m = zip.find(prefix + "byteorder")) {
    if (m->size > 16)
      fail(path, "zip member '" + printable(m->name) + "' is not 'little' or 'big'");
    const std::vector<uint8_t> order = zip.read(*m);
    const std::string text(order.begin(), order.end());
    if (text != "little")
      fail(path, "zip member '" + printable(m->name) + "' says the storages are '" +
                     printable(text) + "'-endian (heed reads little-endian checkpoints only)");
  }
  if (pkl->size > kMaxStateDictPickleBytes)
    fail(path, "zip member '" + printable(pkl->name) + "' of " + std::to_string(pkl->size) +
                   " bytes is larger than a state dict's pickle may be (" +
                   std::to_string(kMaxStateDictPickleBytes) + ")");
  const std::vector<uint8_t> bytes = zip.read(*pkl);
  pickle::Source source{path, pkl->name, 0, true};
  const auto p = pickle::unpickle(bytes.data(), bytes.size(), source);
  if (p->end != bytes.size())
    fail(path, pkl->name + " has " + std::to_string(bytes.size() - p->end) +
                   " bytes after the pickle's STOP");
  StateDict sd = read_state_dict(*p, source);
  for (auto &[key, s] : sd.storages) {
    const std::string name = prefix + "data/" + key;
    s.member = zip.find(name);
    if (s.member == nullptr)
      fail(path, "storage '" + printable(key) + "' has no zip member '" + printable(name) + "'");
    if (s.member->size != s.bytes)
      fail(path, "zip member '" + printable(name) + "' holds " + std::to_string(s.member->size) +
                     " bytes, but its storage is " + std::to_string(s.numel) + " elements of " +
                     dtype_name(s.dtype) + " (" + std::to_string(s.bytes) + " bytes)");
  }
  return build(path, "pytorch zip", zip.file_bytes(), sd,
               [&zip](const Storage &s) { return zip.read(*s.member); });
}

std::unique_ptr<TensorBuffers> read_pytorch_legacy(const uint8_t *data, size_t size,
                                                   const std::string &path) {
  if (size >= 262 && std::memcmp(data + 257, "ustar", 5) == 0)
    fail(path, "a tar archive: the checkpoint format of torch < 0.4, which heed does not read "
               "(load and save it again with a newer torch)");
  if (size == 0 || data[0] != 0x80) {
    char first[8] = "none";
    if (size > 0)
      std::snprintf(first, sizeof first, "0x%02x", data[0]);
    fail(path, std::string("not a PyTorch checkpoint: neither a zip archive nor a legacy pickle "
                           "(first byte ") +
                   first + ")");
  }
  uint64_t pos = 0;
  auto next = [&](const char *label, bool persistent_ids) {
    pickle::Source source{path, label, pos, persistent_ids};
    auto p = pickle::unpickle(data + pos, size - pos, source);
    pos += p->end;
    return p;
  };
  {
    static const uint8_t magic[] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    const auto p = next("legacy pickle 1 (magic number)", false);
    if (p->root->kind != Kind::big_integer || p->root->text.size() != sizeof magic ||
        std::memcmp(p->root->text.data(), magic, sizeof magic) != 0)
      fail(path, "not a PyTorch checkpoint: the first pickle is not torch's magic number");
  }
  {
    const auto p = next("legacy pickle 2 (protocol version)", false);
    if (p->root->kind != Kind::integer || p->root->integer != 1001)
      fail(path, "legacy checkpoint protocol version is not 1001 (the only one torch writes)");
  }
  {
    const auto p = next("legacy pickle 3 (sys info)", false);
    const Value *little = p->root->find("little_endian");
    if (p->root->kind != Kind::dict || little == nullptr || little->kind != Kind::boolean)
      fail(path, "legacy checkpoint sys info does not say whether it is little-endian");
    if (!little->boolean)
      fail(path, "a big-endian checkpoint (heed reads little-endian checkpoints only)");
  }
  const uint64_t dict_begin = pos;
  const auto state = next("legacy pickle 4 (state dict)", true);
  pickle::Source source{path, "legacy pickle 4 (state dict)", dict_begin, true};
  StateDict sd = read_state_dict(*state, source);
  const auto keys = next("legacy pickle 5 (storage keys)", false);
  if (keys->root->kind != Kind::list)
    fail(path, "legacy checkpoint's storage key list is not a list");
  for (const Value *k : keys->root->items) {
    if (k->kind != Kind::string)
      fail(path, "legacy checkpoint's storage key list holds a " +
                     std::string(pickle::kind_name(k->kind)) + ", not a key");
    auto it = sd.storages.find(k->text);
    if (it == sd.storages.end())
      fail(path, "storage '" + printable(k->text) + "' is in the key list but no tensor uses it");
    Storage &s = it->second;
    if (s.listed)
      fail(path, "storage '" + printable(k->text) + "' is listed twice");
    s.listed = true;
    if (size - pos < 8)
      fail(path, "truncated: storage '" + printable(k->text) + "' at byte " + std::to_string(pos) +
                     " has no 8-byte element count");
    uint64_t count = 0;
    for (int i = 7; i >= 0; --i)
      count = (count << 8) | data[pos + static_cast<uint64_t>(i)];
    if (count != s.numel)
      fail(path, "storage '" + printable(k->text) + "' at byte " + std::to_string(pos) + " holds " +
                     std::to_string(count) + " elements, but its tensors say " +
                     std::to_string(s.numel));
    pos += 8;
    if (s.bytes > size - pos)
      fail(path, "truncated: storage '" + printable(k->text) + "' of " + std::to_string(s.bytes) +
                     " bytes at byte " + std::to_string(pos) + " runs past the end of the file (" +
                     std::to_string(size) + " bytes)");
    s.data = data + pos;
    pos += s.bytes;
  }
  for (const auto &[key, s] : sd.storages)
    if (!s.listed)
      fail(path, "storage '" + printable(key) + "' is missing from the key list");
  if (pos != size)
    fail(path, std::to_string(size - pos) + " bytes after the last storage (at byte " +
                   std::to_string(pos) + "): not a legacy PyTorch checkpoint, or corrupt");
  return build(path, "pytorch legacy", size, sd, [](const Storage &) -> std::vector<uint8_t> {
    return {}; // every storage's bytes are at hand in the file
  });
}

std::unique_ptr<TensorBuffers> read_pytorch_legacy(const std::string &path) {
  const MappedFile file(path);
  return read_pytorch_legacy(file.data(), file.size(), path);
}

std::unique_ptr<TensorBuffers> read_pytorch_checkpoint(const std::string &path) {
  if (ZipArchive::has_zip_magic(path))
    return read_pytorch_zip(path);
  return read_pytorch_legacy(path);
}

} // namespace heed::io
