#pragma once

/// \file
/// `ray::internal::XlangValue`: the cross-language value tree (DESIGN.md section 5) as plain
/// C++, so that public headers need no generated protobuf code. libray_api.so turns it into
/// the XLANG frame (a serialized `ray.rpc.Value` plus out-of-band buffers) and back.

#include <ray/api/common_types.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ray {
namespace internal {

/// One XLANG value: null, bool, int64, double, string, bytes, list, map (ordered entries, any
/// keys) or a numeric array (dtype, shape, little-endian C-order element bytes).
class XlangValue {
 public:
  /// The kinds of `ray.rpc.Value`.
  enum class Kind { kNull, kBool, kInt, kFloat, kString, kBytes, kList, kMap, kArray };

  using Entry = std::pair<XlangValue, XlangValue>;

  XlangValue() = default;

  static XlangValue Null() { return XlangValue(); }
  static XlangValue Bool(bool v) {
    XlangValue x(Kind::kBool);
    x.bool_value_ = v;
    return x;
  }
  static XlangValue Int(int64_t v) {
    XlangValue x(Kind::kInt);
    x.int_value_ = v;
    return x;
  }
  static XlangValue Float(double v) {
    XlangValue x(Kind::kFloat);
    x.float_value_ = v;
    return x;
  }
  /// A UTF-8 string (the caller checks the encoding).
  static XlangValue String(std::string v) {
    XlangValue x(Kind::kString);
    x.data_ = std::move(v);
    return x;
  }
  static XlangValue Bytes(std::string v) {
    XlangValue x(Kind::kBytes);
    x.data_ = std::move(v);
    return x;
  }
  static XlangValue List(std::vector<XlangValue> items = {}) {
    XlangValue x(Kind::kList);
    x.items_ = std::move(items);
    return x;
  }
  static XlangValue Map(std::vector<Entry> entries = {}) {
    XlangValue x(Kind::kMap);
    x.entries_ = std::move(entries);
    return x;
  }
  /// \param[in] dtype One of bool, int8..int64, uint8..uint64, float32, float64.
  /// \param[in] shape Dimensions (none for a 0-d array).
  /// \param[in] data product(shape) * itemsize bytes, little endian, C order.
  static XlangValue Array(std::string dtype, std::vector<int64_t> shape, std::string data) {
    XlangValue x(Kind::kArray);
    x.dtype_ = std::move(dtype);
    x.shape_ = std::move(shape);
    x.data_ = std::move(data);
    return x;
  }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool bool_value() const { return bool_value_; }
  int64_t int_value() const { return int_value_; }
  double float_value() const { return float_value_; }
  /// The string, the bytes, or an array's element bytes.
  const std::string &data() const { return data_; }
  std::string &mutable_data() { return data_; }
  const std::vector<XlangValue> &items() const { return items_; }
  std::vector<XlangValue> &mutable_items() { return items_; }
  const std::vector<Entry> &entries() const { return entries_; }
  std::vector<Entry> &mutable_entries() { return entries_; }
  const std::string &dtype() const { return dtype_; }
  const std::vector<int64_t> &shape() const { return shape_; }

  /// Exact equality (floats compared bit for bit, so -0.0 != 0.0 and NaN == NaN).
  RAY_EXPORT bool operator==(const XlangValue &other) const;
  bool operator!=(const XlangValue &other) const { return !(*this == other); }

  /// \return A short description of the kind, e.g. "int", "list", "array int32[3]".
  RAY_EXPORT std::string KindName() const;

  /// \return A readable rendering of the whole value (for test failures and messages).
  RAY_EXPORT std::string DebugString() const;

 private:
  explicit XlangValue(Kind kind) : kind_(kind) {}

  Kind kind_ = Kind::kNull;
  bool bool_value_ = false;
  int64_t int_value_ = 0;
  double float_value_ = 0;
  std::string data_;
  std::vector<XlangValue> items_;
  std::vector<Entry> entries_;
  std::string dtype_;
  std::vector<int64_t> shape_;
};

}  // namespace internal
}  // namespace ray
