#include "heed/io/npz_archive.h"

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>

#include "heed/core/error.h"
#include "heed/io/printable.h"

namespace heed::io {
namespace {

// No real header comes near this: numpy pads to 64 bytes, and a shape of a
// few dimensions takes a few dozen.
constexpr uint64_t kMaxHeaderBytes = 64 * 1024;
constexpr size_t kMaxDims = 32;

[[noreturn]] void fail(const std::string &what, const std::string &problem) {
  throw ModelError(what + ": " + problem);
}

// The header dict, read as the strict subset of Python literal syntax that
// numpy writes.
class HeaderParser {
public:
  HeaderParser(std::string_view text, const std::string &what) : s_(text), what_(what) {}

  NpyLayout parse() {
    NpyLayout layout;
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<std::vector<int64_t>> shape;
    expect('{');
    while (true) {
      skip_spaces();
      if (peek() == '}')
        break;
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        if (descr)
          bad("'descr' appears twice");
        descr = string_literal();
      } else if (key == "fortran_order") {
        if (fortran)
          bad("'fortran_order' appears twice");
        fortran = boolean();
      } else if (key == "shape") {
        if (shape)
          bad("'shape' appears twice");
        shape = tuple();
      } else {
        bad("unexpected key '" + printable(key) + "'");
      }
      skip_spaces();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_spaces();
      if (peek() != '}')
        bad("expected ',' or '}' at byte " + std::to_string(pos_));
    }
    ++pos_; // '}'
    // numpy pads with spaces up to the final newline.
    while (pos_ < s_.size() && s_[pos_] == ' ')
      ++pos_;
    if (pos_ + 1 != s_.size() || s_[pos_] != '\n')
      bad("does not end with spaces and a newline after the dict");
    if (!descr || !fortran || !shape)
      bad("lacks one of 'descr', 'fortran_order', 'shape'");
    if (*fortran)
      fail(what_, "is stored in Fortran order ('fortran_order': True); heed reads C order only");
    layout.type = type_of(*descr);
    layout.shape = std::move(*shape);
    return layout;
  }

private:
  [[noreturn]] void bad(const std::string &problem) {
    fail(what_, "not a valid .npy header (" + problem + ")");
  }
  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }
  void skip_spaces() {
    while (pos_ < s_.size() && s_[pos_] == ' ')
      ++pos_;
  }
  void expect(char c) {
    skip_spaces();
    if (peek() != c)
      bad(std::string("expected '") + c + "' at byte " + std::to_string(pos_));
    ++pos_;
  }
  std::string string_literal() {
    skip_spaces();
    const char quote = peek();
    if (quote != '\'' && quote != '"')
      bad("expected a quoted string at byte " + std::to_string(pos_));
    const size_t end = s_.find(quote, pos_ + 1);
    if (end == std::string_view::npos)
      bad("unterminated string");
    std::string value(s_.substr(pos_ + 1, end - pos_ - 1));
    if (value.find('\\') != std::string::npos)
      bad("escapes in a string");
    pos_ = end + 1;
    return value;
  }
  bool boolean() {
    skip_spaces();
    if (s_.substr(pos_, 4) == "True") {
      pos_ += 4;
      return true;
    }
    if (s_.substr(pos_, 5) == "False") {
      pos_ += 5;
      return false;
    }
    bad("'fortran_order' is not True or False");
  }
  std::vector<int64_t> tuple() {
    std::vector<int64_t> dims;
    expect('(');
    while (true) {
      skip_spaces();
      if (peek() == ')')
        break;
      if (peek() < '0' || peek() > '9')
        bad("a dimension of 'shape' is not a non-negative integer");
      uint64_t value = 0;
      while (peek() >= '0' && peek() <= '9') {
        value = value * 10 + static_cast<uint64_t>(peek() - '0');
        if (value > static_cast<uint64_t>(INT64_MAX) / 16)
          bad("a dimension of 'shape' is too large");
        ++pos_;
      }
      if (peek() == 'L') // Python 2 longs
        ++pos_;
      dims.push_back(static_cast<int64_t>(value));
      if (dims.size() > kMaxDims)
        bad("more than " + std::to_string(kMaxDims) + " dimensions");
      skip_spaces();
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      skip_spaces();
      if (peek() != ')')
        bad("expected ',' or ')' in 'shape'");
    }
    // (n) without the comma is a number in Python, not a 1-tuple.
    ++pos_;
    return dims;
  }
  NpyType type_of(const std::string &descr) {
    if (descr == "<f4")
      return NpyType::f32;
    if (descr == "<f2")
      return NpyType::f16;
    if (descr.size() == 3 && std::strchr("|<>=", descr[0]) && descr.substr(1) == "i1")
      return NpyType::i8;
    if (descr.size() == 3 && std::strchr("|<>=", descr[0]) && descr.substr(1) == "u1")
      return NpyType::u8;
    if (!descr.empty() && descr[0] == '>')
      fail(what_, "has big-endian values ('descr': '" + printable(descr) +
                      "'); heed reads little-endian float32, float16 and bytes");
    fail(what_, "has values of type '" + printable(descr) +
                    "' (heed reads '<f4', '<f2', '|i1' and '|u1')");
  }

  std::string_view s_;
  const std::string &what_;
  size_t pos_ = 0;
};

} // namespace

const char *npy_type_name(NpyType type) {
  switch (type) {
  case NpyType::f32:
    return "float32";
  case NpyType::f16:
    return "float16";
  case NpyType::i8:
    return "int8";
  case NpyType::u8:
    return "uint8";
  }
  return "?";
}

size_t npy_type_size(NpyType type) {
  switch (type) {
  case NpyType::f32:
    return 4;
  case NpyType::f16:
    return 2;
  case NpyType::i8:
  case NpyType::u8:
    return 1;
  }
  return 1;
}

namespace {

// The magic, version and header length: where the header ends.
uint64_t parse_npy_prefix(std::string_view bytes, uint64_t total_size, const std::string &what) {
  static constexpr char kMagic[] = "\x93NUMPY";
  if (bytes.size() < 10 || bytes.substr(0, 6) != std::string_view(kMagic, 6))
    fail(what, "not a .npy array (no \\x93NUMPY magic)");
  const auto major = static_cast<uint8_t>(bytes[6]);
  const auto minor = static_cast<uint8_t>(bytes[7]);
  uint64_t header_len = 0, prefix = 0;
  const auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(bytes[i])); };
  if (major == 1 && minor == 0) {
    header_len = byte(8) | byte(9) << 8;
    prefix = 10;
  } else if ((major == 2 || major == 3) && minor == 0) {
    if (bytes.size() < 12)
      fail(what, "truncated .npy header");
    header_len = byte(8) | byte(9) << 8 | byte(10) << 16 | byte(11) << 24;
    prefix = 12;
  } else {
    fail(what, "unsupported .npy version " + std::to_string(major) + "." + std::to_string(minor));
  }
  if (header_len > kMaxHeaderBytes)
    fail(what, ".npy header of " + std::to_string(header_len) + " bytes (at most " +
                   std::to_string(kMaxHeaderBytes) + ")");
  if (prefix + header_len > total_size)
    fail(what,
         ".npy header runs past the end of the array (" + std::to_string(total_size) + " bytes)");
  return prefix + header_len;
}

} // namespace

NpyLayout parse_npy(std::string_view bytes, const std::string &what) {
  return parse_npy_header(bytes, bytes.size(), what);
}

uint64_t npy_header_end(std::string_view bytes, uint64_t total_size, const std::string &what) {
  return parse_npy_prefix(bytes, total_size, what);
}

NpyLayout parse_npy_header(std::string_view bytes, uint64_t total_size, const std::string &what) {
  const uint64_t end = parse_npy_prefix(bytes, total_size, what);
  const uint64_t prefix = static_cast<uint8_t>(bytes[6]) == 1 ? 10 : 12;
  if (bytes.size() < end)
    fail(what, "truncated .npy header");
  const std::string_view header = bytes.substr(prefix, end - prefix);
  for (char c : header)
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n')
      fail(what, "not a valid .npy header (control bytes)");
  NpyLayout layout = HeaderParser(header, what).parse();
  layout.data_offset = end;
  const uint64_t item = npy_type_size(layout.type);
  uint64_t numel = 1;
  for (int64_t d : layout.shape) {
    const auto u = static_cast<uint64_t>(d);
    if (u != 0 && numel > UINT64_MAX / item / u)
      fail(what, "shape of more elements than any file can hold");
    numel *= u;
  }
  layout.numel = numel;
  const uint64_t data_bytes = total_size - layout.data_offset;
  if (numel * item != data_bytes) {
    std::string shape = "(";
    for (size_t i = 0; i < layout.shape.size(); ++i)
      shape += (i ? ", " : "") + std::to_string(layout.shape[i]);
    fail(what, "shape " + shape + ") of " + npy_type_name(layout.type) + " needs " +
                   std::to_string(numel * item) + " bytes but the array holds " +
                   std::to_string(data_bytes));
  }
  return layout;
}

uint64_t NpyArray::numel() const {
  uint64_t n = 1;
  for (int64_t d : shape)
    n *= static_cast<uint64_t>(d);
  return n;
}

NpzArchive::NpzArchive(const std::string &path) : zip_(path) {
  std::set<std::string> seen;
  for (const auto &m : zip_.members()) {
    const std::string_view name = m.name;
    if (name.size() <= 4 || name.substr(name.size() - 4) != ".npy")
      fail(path, "member '" + printable(m.name) + "' is not a .npy array (an .npz holds NAME.npy)");
    std::string array(name.substr(0, name.size() - 4));
    if (!seen.insert(array).second)
      fail(path, "array '" + printable(array) + "' appears twice");
    names_.push_back(std::move(array));
  }
}

bool NpzArchive::contains(const std::string &name) const {
  return std::find(names_.begin(), names_.end(), name) != names_.end();
}

NpyArray NpzArchive::read(const std::string &name, size_t extra_bytes) const {
  NpyArray array;
  read(name, array, extra_bytes);
  return array;
}

void NpzArchive::read(const std::string &name, NpyArray &array, size_t extra_bytes) const {
  const std::string what = zip_.path() + ": member '" + printable(name) + ".npy'";
  const ZipArchive::Member *member = zip_.find(name + ".npy");
  if (!member)
    throw ModelError(zip_.path() + ": has no array '" + printable(name) + "'");
  // The header first, then the values straight into their buffer (no copy to
  // drop the header: a model's arrays are hundreds of megabytes).
  ZipArchive::MemberReader in(zip_, *member);
  std::string head(std::min<uint64_t>(member->size, 12), '\0');
  in.read(reinterpret_cast<uint8_t *>(head.data()), head.size());
  const uint64_t end = npy_header_end(head, member->size, what);
  if (end < head.size())
    throw ModelError(what + ": not a valid .npy header (too short)");
  const size_t prefix = head.size();
  head.resize(end);
  in.read(reinterpret_cast<uint8_t *>(head.data()) + prefix, end - prefix);
  const NpyLayout layout = parse_npy_header(head, member->size, what);
  array.type = layout.type;
  array.shape = layout.shape;
  array.data.reserve(in.remaining() + extra_bytes);
  array.data.resize(in.remaining());
  in.read(array.data.data(), array.data.size());
  in.finish();
}

} // namespace heed::io
