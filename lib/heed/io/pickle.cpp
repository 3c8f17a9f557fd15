#include "heed/io/pickle.h"

#include <cstring>
#include <set>

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io::pickle {
namespace {

// Opcodes (Python's Lib/pickle.py names).
enum Op : uint8_t {
  MARK = '(',
  STOP = '.',
  BINFLOAT = 'G',
  BININT = 'J',
  BININT1 = 'K',
  BININT2 = 'M',
  NONE = 'N',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINUNICODE = 'X',
  EMPTY_LIST = ']',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  APPENDS = 'e',
  BINGET = 'h',
  LONG_BINGET = 'j',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  SETITEMS = 'u',
  EMPTY_DICT = '}',
  EMPTY_TUPLE = ')',
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  PROTO = 0x80,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  MEMOIZE = 0x94,
  STACK_GLOBAL = 0x93,
  FRAME = 0x95,
};

// What torch.save writes for a state dict, and nothing else. Storage types and
// dtypes of every kind are allowed as inert names so that the reader can name
// the tensor whose dtype it refuses.
const std::set<std::string> &allowed_globals() {
  static const std::set<std::string> allowed = [] {
    std::set<std::string> s = {
        "collections OrderedDict",
        "torch._utils _rebuild_tensor_v2",
        "torch._utils _rebuild_parameter",
        "torch._utils _rebuild_parameter_with_state",
    };
    for (const char *type : {"Float", "Half", "BFloat16", "Double", "Long", "Int", "Short", "Char",
                             "Byte", "Bool", "ComplexFloat", "ComplexDouble", "QInt8", "QUInt8",
                             "QInt32", "QUInt4x2", "QUInt2x4", "Untyped"})
      s.insert(std::string("torch ") + type + "Storage");
    for (const char *dtype : {"float32", "float",  "float16", "half",     "bfloat16",  "float64",
                              "double",  "int64",  "long",    "int32",    "int",       "int16",
                              "short",   "int8",   "uint8",   "bool",     "complex64", "complex128",
                              "qint8",   "quint8", "qint32",  "quint4x2", "quint2x4"})
      s.insert(std::string("torch ") + dtype);
    return s;
  }();
  return allowed;
}

bool is_storage_type(const std::string &global) {
  return global.rfind("torch ", 0) == 0 && global.find('_') == std::string::npos;
}

class Unpickler {
public:
  Unpickler(const uint8_t *data, size_t size, const Source &source)
      : data_(data), size_(size), source_(source), out_(std::make_unique<Unpickled>()) {}

  std::unique_ptr<Unpickled> run();

private:
  [[noreturn]] void fail(const std::string &what) const {
    throw ModelError(where(source_, op_offset_) + ": " + what);
  }

  // Reading the opcode's arguments: every length is checked first.
  const uint8_t *take(uint64_t n) {
    if (n > size_ - pos_)
      fail("truncated: the opcode needs " + std::to_string(n) + " more bytes, " +
           std::to_string(size_ - pos_) + " are left");
    const uint8_t *p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t read_le(int n) {
    const uint8_t *p = take(static_cast<uint64_t>(n));
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; --i)
      v = (v << 8) | p[i];
    return v;
  }
  std::string read_line() {
    const uint8_t *begin = data_ + pos_;
    const void *nl = std::memchr(begin, '\n', size_ - pos_);
    if (nl == nullptr)
      fail("truncated: GLOBAL's name has no end of line");
    const auto *end = static_cast<const uint8_t *>(nl);
    pos_ += static_cast<size_t>(end - begin) + 1;
    return std::string(reinterpret_cast<const char *>(begin), static_cast<size_t>(end - begin));
  }

  Value *make(Kind kind) {
    if (out_->values.size() >= kMaxValues)
      fail("more than " + std::to_string(kMaxValues) + " values: not a state dict");
    Value &v = out_->values.emplace_back();
    v.kind = kind;
    v.offset = op_offset_;
    return &v;
  }
  void push(Value *v) {
    if (stack_.size() >= kMaxStack)
      fail("the stack exceeds " + std::to_string(kMaxStack) + " values");
    stack_.push_back(v);
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  Value *pop(const char *op) {
    if (stack_.size() <= floor())
      fail(std::string(op) + " on an empty stack (stack underflow)");
    Value *v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value *top(const char *op) {
    if (stack_.size() <= floor())
      fail(std::string(op) + " on an empty stack (stack underflow)");
    return stack_.back();
  }
  // The values since the last MARK, which is removed.
  std::vector<Value *> pop_mark(const char *op) {
    if (marks_.empty())
      fail(std::string(op) + " without a MARK");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<Value *> items(stack_.begin() + static_cast<ptrdiff_t>(mark), stack_.end());
    stack_.resize(mark);
    return items;
  }

  Value *make_string(Kind kind, uint64_t n) {
    const uint8_t *p = take(n); // checked before anything is allocated
    Value *v = make(kind);
    v->text.assign(reinterpret_cast<const char *>(p), n);
    return v;
  }
  Value *make_integer(int64_t i) {
    Value *v = make(Kind::integer);
    v->integer = i;
    return v;
  }
  Value *make_tuple(std::vector<Value *> items) {
    Value *v = make(Kind::tuple);
    v->items = std::move(items);
    return v;
  }

  void memo_put(uint64_t index) {
    Value *v = top("BINPUT");
    memo_[index] = v;
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end())
      fail("memo index " + std::to_string(index) + " out of range (" +
           std::to_string(memo_.size()) + " values memoised)");
    push(it->second);
  }

  std::string key_text(const Value *key) {
    switch (key->kind) {
    case Kind::string:
      return "s" + key->text;
    case Kind::integer:
      return "i" + std::to_string(key->integer);
    case Kind::boolean:
      return "i" + std::to_string(key->boolean ? 1 : 0);
    case Kind::none:
      return "n";
    default:
      fail(std::string("a dict key is a ") + kind_name(key->kind) +
           " (heed allows strings, integers, booleans and None)");
    }
  }
  void set_item(Value *dict, Value *key, Value *value, const char *op) {
    if (dict->kind != Kind::dict)
      fail(std::string(op) + " on a " + kind_name(dict->kind) + ", not a dict");
    if (!dict->keys)
      dict->keys = std::make_unique<std::unordered_map<std::string, size_t>>();
    auto [it, added] = dict->keys->emplace(key_text(key), dict->items.size());
    if (added) {
      dict->items.push_back(key);
      dict->items.push_back(value);
    } else {
      dict->items[it->second + 1] = value;
    }
  }
  void append(Value *list, Value *value, const char *op) {
    if (list->kind != Kind::list)
      fail(std::string(op) + " on a " + kind_name(list->kind) + ", not a list");
    list->items.push_back(value);
  }

  Value *global(const std::string &module, const std::string &name) {
    const std::string full = module + " " + name;
    if (!allowed_globals().count(full))
      fail("global '" + printable(module) + "." + printable(name) +
           "' is not allowed (heed reads state dicts of tensors only, and never runs code "
           "from a checkpoint)");
    Value *v = make(Kind::global);
    v->text = full;
    return v;
  }

  Value *persistent_load(const Value *pid);
  Value *reduce(const Value *callable, const Value *args);
  Value *rebuild_tensor(const Value *args);
  std::vector<int64_t> int_tuple(const Value *v, const char *what);

  const uint8_t *data_;
  size_t size_;
  size_t pos_ = 0;
  uint64_t op_offset_ = 0;
  const Source &source_;
  std::unique_ptr<Unpickled> out_;
  std::vector<Value *> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value *> memo_;
};

std::vector<int64_t> Unpickler::int_tuple(const Value *v, const char *what) {
  if (v->kind != Kind::tuple)
    fail(std::string("_rebuild_tensor_v2's ") + what + " is a " + kind_name(v->kind) +
         ", not a tuple");
  if (v->items.size() > kMaxDims)
    fail(std::string("_rebuild_tensor_v2's ") + what + " has " + std::to_string(v->items.size()) +
         " dimensions (at most " + std::to_string(kMaxDims) + ")");
  std::vector<int64_t> out;
  for (const Value *d : v->items) {
    if (d->kind != Kind::integer || d->integer < 0)
      fail(std::string("_rebuild_tensor_v2's ") + what + " holds a " + kind_name(d->kind) +
           (d->kind == Kind::integer ? " below 0" : "") + ", not a non-negative integer");
    out.push_back(d->integer);
  }
  return out;
}

Value *Unpickler::persistent_load(const Value *pid) {
  if (!source_.persistent_ids)
    fail("BINPERSID: this pickle holds no tensors, yet names a persistent object");
  const auto &t = pid->items;
  if (pid->kind != Kind::tuple || (t.size() != 5 && t.size() != 6) || t[0]->kind != Kind::string ||
      t[0]->text != "storage")
    fail("BINPERSID: the persistent id is not torch's ('storage', type, key, location, numel) "
         "tuple");
  if (t[1]->kind != Kind::global || !is_storage_type(t[1]->text))
    fail("BINPERSID: the storage type is a " + std::string(kind_name(t[1]->kind)) +
         (t[1]->kind == Kind::global ? " '" + printable(t[1]->text) + "'" : std::string()) +
         ", not a torch storage type or dtype");
  if (t[2]->kind != Kind::string || t[3]->kind != Kind::string)
    fail("BINPERSID: the storage key and location must be strings");
  if (t[4]->kind != Kind::integer || t[4]->integer < 0)
    fail("BINPERSID: the storage size must be a non-negative integer");
  StorageRef &s = out_->storages.emplace_back();
  s.type = t[1]->text.substr(6); // after "torch "
  s.key = t[2]->text;
  s.location = t[3]->text;
  s.numel = t[4]->integer;
  if (t.size() == 6 && t[5]->kind != Kind::none) {
    const Value *view = t[5];
    if (view->kind != Kind::tuple || view->items.size() != 3 ||
        view->items[0]->kind != Kind::string || view->items[1]->kind != Kind::integer ||
        view->items[2]->kind != Kind::integer || view->items[1]->integer < 0 ||
        view->items[2]->integer < 0)
      fail("BINPERSID: the storage view is not (key, offset, size)");
    s.has_view = true;
    s.view_key = view->items[0]->text;
    s.view_offset = view->items[1]->integer;
    s.view_size = view->items[2]->integer;
  }
  Value *v = make(Kind::storage);
  v->storage = &s;
  return v;
}

Value *Unpickler::rebuild_tensor(const Value *args) {
  // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
  const auto &a = args->items;
  if (a.size() != 6 && a.size() != 7)
    fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + std::to_string(a.size()));
  if (a[0]->kind != Kind::storage)
    fail(std::string("_rebuild_tensor_v2's storage is a ") + kind_name(a[0]->kind) +
         ", not a persistent storage");
  if (a[1]->kind != Kind::integer || a[1]->integer < 0)
    fail("_rebuild_tensor_v2's storage offset is not a non-negative integer");
  TensorRef &t = out_->tensors.emplace_back();
  t.storage = a[0]->storage;
  t.offset = a[1]->integer;
  t.shape = int_tuple(a[2], "size");
  t.stride = int_tuple(a[3], "stride");
  if (t.shape.size() != t.stride.size())
    fail("_rebuild_tensor_v2's size has " + std::to_string(t.shape.size()) +
         " dimensions but its stride " + std::to_string(t.stride.size()));
  if (a[4]->kind != Kind::boolean)
    fail("_rebuild_tensor_v2's requires_grad is not a boolean");
  if (a[5]->kind != Kind::dict || a[5]->dict_size() != 0)
    fail("_rebuild_tensor_v2's backward hooks are not an empty dict");
  if (a.size() == 7 && a[6]->kind != Kind::dict && a[6]->kind != Kind::none)
    fail("_rebuild_tensor_v2's metadata is not a dict");
  Value *v = make(Kind::tensor);
  v->tensor = &t;
  return v;
}

Value *Unpickler::reduce(const Value *callable, const Value *args) {
  if (callable->kind != Kind::global)
    fail(std::string("REDUCE calls a ") + kind_name(callable->kind) + ", not an allowed global");
  if (args->kind != Kind::tuple)
    fail(std::string("REDUCE's arguments are a ") + kind_name(args->kind) + ", not a tuple");
  const std::string &f = callable->text;
  const auto &a = args->items;
  if (f == "collections OrderedDict") {
    if (!a.empty())
      fail("REDUCE: OrderedDict is called with arguments (heed allows only OrderedDict())");
    Value *v = make(Kind::dict);
    v->boolean = true;
    return v;
  }
  if (f == "torch._utils _rebuild_tensor_v2")
    return rebuild_tensor(args);
  if (f == "torch._utils _rebuild_parameter" || f == "torch._utils _rebuild_parameter_with_state") {
    // (data, requires_grad, backward_hooks[, state]): the tensor is all heed needs.
    const size_t n = f == "torch._utils _rebuild_parameter" ? 3 : 4;
    if (a.size() != n || a[0]->kind != Kind::tensor || a[1]->kind != Kind::boolean ||
        a[2]->kind != Kind::dict || a[2]->dict_size() != 0 ||
        (n == 4 && a[3]->kind != Kind::dict && a[3]->kind != Kind::none))
      fail("REDUCE: " + f.substr(13) + " takes (tensor, requires_grad, empty backward hooks" +
           (n == 4 ? ", state)" : ")"));
    return a[0];
  }
  fail("REDUCE calls '" + printable(f) + "', which heed does not allow");
}

std::unique_ptr<Unpickled> Unpickler::run() {
  while (true) {
    op_offset_ = pos_;
    if (pos_ >= size_)
      fail("truncated: the pickle ends without STOP");
    const uint8_t op = data_[pos_++];
    switch (op) {
    case PROTO: {
      const uint8_t version = *take(1);
      if (version < 2 || version > 5)
        fail("pickle protocol " + std::to_string(version) + " (heed reads protocols 2 to 5)");
      break;
    }
    case FRAME: {
      const uint64_t n = read_le(8);
      if (n > size_ - pos_)
        fail("FRAME of " + std::to_string(n) + " bytes, " + std::to_string(size_ - pos_) +
             " are left: truncated");
      break; // framing is advisory: the opcodes are read as they come
    }
    case STOP: {
      if (!marks_.empty())
        fail("STOP inside a MARK");
      if (stack_.size() != 1)
        fail("STOP with " + std::to_string(stack_.size()) + " values on the stack (expected 1)");
      out_->root = stack_.back();
      out_->end = pos_;
      return std::move(out_);
    }
    case MARK:
      if (marks_.size() >= kMaxMarks)
        fail("MARKs nested more than " + std::to_string(kMaxMarks) + " deep");
      marks_.push_back(stack_.size());
      break;
    case NONE:
      push(make(Kind::none));
      break;
    case NEWTRUE:
    case NEWFALSE: {
      Value *v = make(Kind::boolean);
      v->boolean = op == NEWTRUE;
      push(v);
      break;
    }
    case BININT:
      push(make_integer(static_cast<int32_t>(static_cast<uint32_t>(read_le(4)))));
      break;
    case BININT1:
      push(make_integer(static_cast<int64_t>(read_le(1))));
      break;
    case BININT2:
      push(make_integer(static_cast<int64_t>(read_le(2))));
      break;
    case LONG1: {
      const uint8_t n = *take(1);
      const uint8_t *p = take(n);
      if (n <= 8) {
        uint64_t u = 0;
        for (int i = n - 1; i >= 0; --i)
          u = (u << 8) | p[i];
        if (n > 0 && n < 8 && (p[n - 1] & 0x80)) // sign-extend
          u |= ~uint64_t{0} << (8 * n);
        push(make_integer(static_cast<int64_t>(u)));
      } else {
        Value *v = make(Kind::big_integer);
        v->text.assign(reinterpret_cast<const char *>(p), n);
        push(v);
      }
      break;
    }
    case BINFLOAT: {
      const uint8_t *p = take(8);
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) // big-endian
        bits = (bits << 8) | p[i];
      Value *v = make(Kind::floating);
      std::memcpy(&v->floating, &bits, sizeof bits);
      push(v);
      break;
    }
    case SHORT_BINUNICODE:
      push(make_string(Kind::string, read_le(1)));
      break;
    case BINUNICODE:
      push(make_string(Kind::string, read_le(4)));
      break;
    case BINUNICODE8:
      push(make_string(Kind::string, read_le(8)));
      break;
    case SHORT_BINBYTES:
      push(make_string(Kind::bytes, read_le(1)));
      break;
    case BINBYTES:
      push(make_string(Kind::bytes, read_le(4)));
      break;
    case BINBYTES8:
      push(make_string(Kind::bytes, read_le(8)));
      break;
    case EMPTY_TUPLE:
      push(make_tuple({}));
      break;
    case EMPTY_LIST:
      push(make(Kind::list));
      break;
    case EMPTY_DICT:
      push(make(Kind::dict));
      break;
    case TUPLE:
      push(make_tuple(pop_mark("TUPLE")));
      break;
    case TUPLE1:
    case TUPLE2:
    case TUPLE3: {
      const size_t n = op - TUPLE1 + 1;
      std::vector<Value *> items(n);
      for (size_t i = n; i-- > 0;)
        items[i] = pop("TUPLE1/2/3");
      push(make_tuple(std::move(items)));
      break;
    }
    case APPEND: {
      Value *value = pop("APPEND");
      append(top("APPEND"), value, "APPEND");
      break;
    }
    case APPENDS: {
      std::vector<Value *> items = pop_mark("APPENDS");
      Value *list = top("APPENDS");
      for (Value *v : items)
        append(list, v, "APPENDS");
      break;
    }
    case SETITEM: {
      Value *value = pop("SETITEM");
      Value *key = pop("SETITEM");
      set_item(top("SETITEM"), key, value, "SETITEM");
      break;
    }
    case SETITEMS: {
      std::vector<Value *> items = pop_mark("SETITEMS");
      if (items.size() % 2 != 0)
        fail("SETITEMS with an odd number of values");
      Value *dict = top("SETITEMS");
      for (size_t i = 0; i < items.size(); i += 2)
        set_item(dict, items[i], items[i + 1], "SETITEMS");
      break;
    }
    case BINPUT:
      memo_put(read_le(1));
      break;
    case LONG_BINPUT:
      memo_put(read_le(4));
      break;
    case MEMOIZE:
      memo_put(memo_.size());
      break;
    case BINGET:
      memo_get(read_le(1));
      break;
    case LONG_BINGET:
      memo_get(read_le(4));
      break;
    case GLOBAL: {
      const std::string module = read_line();
      const std::string name = read_line();
      push(global(module, name));
      break;
    }
    case STACK_GLOBAL: {
      const Value *name = pop("STACK_GLOBAL");
      const Value *module = pop("STACK_GLOBAL");
      if (module->kind != Kind::string || name->kind != Kind::string)
        fail("STACK_GLOBAL of a " + std::string(kind_name(module->kind)) + " and a " +
             kind_name(name->kind) + ", not two strings");
      push(global(module->text, name->text));
      break;
    }
    case REDUCE: {
      const Value *args = pop("REDUCE");
      const Value *callable = pop("REDUCE");
      push(reduce(callable, args));
      break;
    }
    case BUILD: {
      Value *state = pop("BUILD");
      Value *object = top("BUILD");
      // torch pickles a state dict's `_metadata` attribute this way; BUILD
      // on anything else would be a __setstate__ call.
      if (object->kind != Kind::dict || !object->boolean)
        fail(std::string("BUILD on a ") + kind_name(object->kind) +
             " (heed allows it only on an OrderedDict)");
      if (state->kind != Kind::dict)
        fail(std::string("BUILD with a ") + kind_name(state->kind) + " state, not a dict");
      object->attributes = state;
      break;
    }
    case BINPERSID: {
      const Value *pid = pop("BINPERSID");
      push(persistent_load(pid));
      break;
    }
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", op);
      std::string name = hex;
      if (op >= 0x20 && op < 0x7f)
        name += std::string(" '") + static_cast<char>(op) + "'";
      fail("pickle opcode " + name + " is not supported (heed reads state dicts only)");
    }
    }
  }
}

} // namespace

const char *kind_name(Kind kind) {
  switch (kind) {
  case Kind::none:
    return "None";
  case Kind::boolean:
    return "boolean";
  case Kind::integer:
  case Kind::big_integer:
    return "integer";
  case Kind::floating:
    return "float";
  case Kind::string:
    return "string";
  case Kind::bytes:
    return "bytes";
  case Kind::tuple:
    return "tuple";
  case Kind::list:
    return "list";
  case Kind::dict:
    return "dict";
  case Kind::global:
    return "global";
  case Kind::storage:
    return "storage";
  case Kind::tensor:
    return "tensor";
  }
  return "?";
}

const Value *Value::find(const std::string &key) const {
  if (kind != Kind::dict || !keys)
    return nullptr;
  auto it = keys->find("s" + key);
  return it == keys->end() ? nullptr : items[it->second + 1];
}

std::string where(const Source &source, uint64_t offset) {
  return source.path + ": " + source.label + " byte " + std::to_string(source.base_offset + offset);
}

std::unique_ptr<Unpickled> unpickle(const uint8_t *data, size_t size, const Source &source) {
  return Unpickler(data, size, source).run();
}

} // namespace heed::io::pickle
