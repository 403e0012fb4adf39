#pragma once

/// \file
/// Values as object frames (tests/xlang/README.md): how C++ values are written and read.
///
/// Writing `T`:
/// - cross-language types become XLANG frames: `bool`; integers (int8..int64, uint8..uint64 up
///   to INT64_MAX); `float`/`double`; `std::string` (a str when valid UTF-8, else bytes);
///   bytes as `std::vector<uint8_t>`; `std::vector<T>`, `std::map<K, V>`,
///   `std::unordered_map<K, V>` and `std::optional<T>` of cross-language types;
///   `std::nullptr_t` (null).
/// - any other type (declared with MSGPACK_DEFINE, or with its own msgpack adaptor) becomes an
///   OBJECT_FORMAT_CPP frame: a `LanguageValueHeader{type_name}` header and one buffer of
///   msgpack bytes. Only C++ reads it.
///
/// Reading `T`:
/// - XLANG into a cross-language type, with the natural widenings: int -> floating point,
///   bytes -> std::string, XLANG arrays (numpy) -> std::vector of numbers or bytes; integers
///   are range checked.
/// - OBJECT_FORMAT_CPP into any msgpack-readable type; RAW into std::string or bytes.
/// - ERROR raises the matching exception (ray_exception.h); PICKLE5 and JAVA values raise a
///   RayException naming the format and the type.
/// A value that cannot become `T` raises a RayException naming both.

#include <ray/api/common_types.h>
#include <ray/api/ray_exception.h>
#include <ray/api/xlang_value.h>

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <msgpack.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <vector>

namespace ray {
namespace internal {

/// `ray.rpc.ObjectFormat`.
enum class ObjectFormat : uint8_t {
  kUnspecified = 0,
  kXlang = 1,
  kPickle5 = 2,
  kRaw = 3,
  kError = 4,
  kJava = 5,
  kCpp = 6,
};

/// `ray.rpc.ErrorType`.
enum class ErrorType : int {
  kUnspecified = 0,
  kTaskExecution = 1,
  kWorkerDied = 2,
  kActorDied = 3,
  kObjectLost = 4,
  kOwnerDied = 5,
  kTaskCancelled = 6,
  kObjectStoreFull = 7,
  kSerialization = 8,
  kActorUnavailable = 9,
};

/// `ray.rpc.Language`.
enum class Language : int { kUnspecified = 0, kPython = 1, kJava = 2, kCpp = 3 };

/// The contents of an ERROR frame (`ray.rpc.ErrorInfo`, without the pickled exception).
struct ErrorDetails {
  ErrorType type = ErrorType::kUnspecified;
  std::string message;
  std::string traceback;
  Language language = Language::kUnspecified;
  std::string exception_type;
  std::string task_id;
  std::string actor_id;
};

/// A parsed frame: views into the bytes it was parsed from.
struct FrameView {
  ObjectFormat format = ObjectFormat::kUnspecified;
  std::string_view header;
  std::vector<std::string_view> buffers;
};

/// Splits a frame into format, header and buffers (no copy; bytes after the frame are ignored).
/// \throws RayException "malformed object frame: ..." for a bad frame.
RAY_EXPORT FrameView ParseFrame(std::string_view data);

/// Lays out a frame exactly as the spec says (64-byte aligned buffers, zero padding).
RAY_EXPORT std::string BuildFrame(ObjectFormat format, std::string_view header,
                                  const std::vector<std::string_view> &buffers);

/// \return The XLANG frame of a value.
RAY_EXPORT std::string EncodeXlang(const XlangValue &value);

/// \return The value of an XLANG frame.
/// \throws RayException for an invalid header, dtype, shape or buffer reference.
RAY_EXPORT XlangValue DecodeXlang(const FrameView &frame);

/// \return An OBJECT_FORMAT_CPP frame holding msgpack bytes of a value of type `type_name`.
RAY_EXPORT std::string EncodeCpp(std::string_view type_name, std::string_view msgpack_bytes);

/// \return The type name in the LanguageValueHeader of a CPP or JAVA frame.
RAY_EXPORT std::string LanguageValueTypeName(const FrameView &frame);

/// \return A RAW frame of the bytes.
RAY_EXPORT std::string EncodeRaw(std::string_view bytes);

/// \return An ERROR frame.
RAY_EXPORT std::string EncodeError(const ErrorDetails &error);

/// \return The contents of an ERROR frame.
RAY_EXPORT ErrorDetails DecodeError(const FrameView &frame);

/// Throws the exception an ERROR value stands for (RayTaskException, RayActorException, ...).
[[noreturn]] RAY_EXPORT void ThrowError(const ErrorDetails &error);

/// Throws for a frame C++ cannot read (PICKLE5, JAVA, unknown), naming it and `cpp_type`.
[[noreturn]] RAY_EXPORT void ThrowUnreadable(const FrameView &frame, const std::string &cpp_type);

/// Throws "cannot read <what> as C++ type <cpp_type>".
[[noreturn]] RAY_EXPORT void ThrowTypeMismatch(const std::string &what, const std::string &path,
                                               const std::string &cpp_type);

/// \return The elements of a 1-d XLANG array as a list of bool/int/float values.
/// \throws RayException for another rank or a uint64 element above INT64_MAX.
RAY_EXPORT std::vector<XlangValue> ArrayElements(const XlangValue &array,
                                                 const std::string &path);

/// \return True when the bytes are valid UTF-8.
RAY_EXPORT bool IsValidUtf8(std::string_view text);

/// \return The demangled form of a `typeid(...).name()`.
RAY_EXPORT std::string DemangleTypeName(const char *mangled);

/// Collects the ids of ObjectRefs serialized on this thread while it lives (nests).
class RAY_EXPORT ContainedIdCollector {
 public:
  /// \param[in] out Receives the ids, in the order they were serialized.
  explicit ContainedIdCollector(std::vector<std::string> *out);
  ~ContainedIdCollector();
  ContainedIdCollector(const ContainedIdCollector &) = delete;
  ContainedIdCollector &operator=(const ContainedIdCollector &) = delete;

  /// Records an id into the innermost live collector of this thread (if any).
  static void Record(const std::string &id);

 private:
  std::vector<std::string> *previous_;
};

// ---- type names --------------------------------------------------------------------------

template <typename T, typename = void>
struct TypeNameOf {
  static std::string Get() { return DemangleTypeName(typeid(T).name()); }
};

/// \return A readable name of T for messages ("int64_t", "std::vector<std::string>", ...).
template <typename T>
std::string TypeName() {
  return TypeNameOf<std::remove_cv_t<std::remove_reference_t<T>>>::Get();
}

// ---- the XLANG mapping -------------------------------------------------------------------

/// Maps a C++ type to XLANG values. `kSupported` is false for types that only C++ reads.
template <typename T, typename = void>
struct XlangTraits {
  static constexpr bool kSupported = false;
};

/// True when T travels as XLANG.
template <typename T>
inline constexpr bool is_xlang_v = XlangTraits<std::remove_cv_t<std::remove_reference_t<T>>>::kSupported;

/// The serializer: C++ values to frames and back.
class Serializer {
 public:
  /// \param[in] value The value.
  /// \param[out] contained_ids If set, receives the ids of ObjectRefs inside the value.
  /// \return Its frame (XLANG for cross-language types, else OBJECT_FORMAT_CPP).
  template <typename T>
  static std::string Serialize(const T &value, std::vector<std::string> *contained_ids = nullptr);

  /// Reads a frame into `*out`.
  /// \throws The exception of an ERROR frame; RayException when the value cannot be a T.
  template <typename T>
  static void DeserializeTo(std::string_view frame, T *out);

  /// \return The value of a frame as a new T.
  template <typename T>
  static std::shared_ptr<T> Deserialize(std::string_view frame);

  /// Throws if the frame is an ERROR (for void results); any other value is accepted.
  static void CheckNoError(std::string_view frame) {
    FrameView view = ParseFrame(frame);
    if (view.format == ObjectFormat::kError) {
      ThrowError(DecodeError(view));
    }
  }
};

// ---- inline implementation ----

template <>
struct TypeNameOf<bool> {
  static std::string Get() { return "bool"; }
};
template <>
struct TypeNameOf<double> {
  static std::string Get() { return "double"; }
};
template <>
struct TypeNameOf<float> {
  static std::string Get() { return "float"; }
};
template <>
struct TypeNameOf<std::string> {
  static std::string Get() { return "std::string"; }
};
template <typename T>
struct TypeNameOf<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static std::string Get() {
    if constexpr (std::is_same_v<T, char>) {
      return "char";
    } else {
      return std::string(std::is_signed_v<T> ? "int" : "uint") + std::to_string(8 * sizeof(T)) +
             "_t";
    }
  }
};
template <typename T>
struct TypeNameOf<std::vector<T>> {
  static std::string Get() { return "std::vector<" + TypeName<T>() + ">"; }
};
template <typename K, typename V>
struct TypeNameOf<std::map<K, V>> {
  static std::string Get() { return "std::map<" + TypeName<K>() + ", " + TypeName<V>() + ">"; }
};
template <typename K, typename V>
struct TypeNameOf<std::unordered_map<K, V>> {
  static std::string Get() {
    return "std::unordered_map<" + TypeName<K>() + ", " + TypeName<V>() + ">";
  }
};
template <typename T>
struct TypeNameOf<std::optional<T>> {
  static std::string Get() { return "std::optional<" + TypeName<T>() + ">"; }
};

template <>
struct XlangTraits<bool> {
  static constexpr bool kSupported = true;
  static XlangValue To(bool v) { return XlangValue::Bool(v); }
  static void From(const XlangValue &v, bool *out, const std::string &path) {
    if (v.kind() != XlangValue::Kind::kBool) {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, "bool");
    }
    *out = v.bool_value();
  }
};

template <typename T>
struct XlangTraits<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  static constexpr bool kSupported = true;
  static XlangValue To(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<int64_t>::max())) {
        throw RayException("cannot write " + TypeName<T>() + " " + std::to_string(v) +
                           " as an XLANG int: it is above INT64_MAX");
      }
    }
    return XlangValue::Int(static_cast<int64_t>(v));
  }
  static void From(const XlangValue &v, T *out, const std::string &path) {
    if (v.kind() != XlangValue::Kind::kInt) {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, TypeName<T>());
    }
    int64_t x = v.int_value();
    bool fits;
    if constexpr (std::is_signed_v<T>) {
      fits = x >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
             x <= static_cast<int64_t>(std::numeric_limits<T>::max());
    } else {
      fits = x >= 0 && static_cast<uint64_t>(x) <= std::numeric_limits<T>::max();
    }
    if (!fits) {
      ThrowTypeMismatch("the XLANG int " + std::to_string(x) + " (out of range)", path,
                        TypeName<T>());
    }
    *out = static_cast<T>(x);
  }
};

template <typename T>
struct XlangTraits<T, std::enable_if_t<std::is_floating_point_v<T>>> {
  static constexpr bool kSupported = true;
  static XlangValue To(T v) { return XlangValue::Float(static_cast<double>(v)); }
  static void From(const XlangValue &v, T *out, const std::string &path) {
    if (v.kind() == XlangValue::Kind::kFloat) {
      *out = static_cast<T>(v.float_value());
    } else if (v.kind() == XlangValue::Kind::kInt) {
      *out = static_cast<T>(v.int_value());
    } else {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, TypeName<T>());
    }
  }
};

template <>
struct XlangTraits<std::string> {
  static constexpr bool kSupported = true;
  static XlangValue To(const std::string &v) {
    return IsValidUtf8(v) ? XlangValue::String(v) : XlangValue::Bytes(v);
  }
  static void From(const XlangValue &v, std::string *out, const std::string &path) {
    if (v.kind() != XlangValue::Kind::kString && v.kind() != XlangValue::Kind::kBytes) {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, "std::string");
    }
    *out = v.data();
  }
};

template <>
struct XlangTraits<std::nullptr_t> {
  static constexpr bool kSupported = true;
  static XlangValue To(std::nullptr_t) { return XlangValue::Null(); }
  static void From(const XlangValue &v, std::nullptr_t *out, const std::string &path) {
    if (!v.is_null()) {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, "std::nullptr_t");
    }
    *out = nullptr;
  }
};

/// Bytes: written as an XLANG bytes value; read from bytes, a uint8/int8 array or a list of ints.
template <>
struct XlangTraits<std::vector<uint8_t>> {
  static constexpr bool kSupported = true;
  static XlangValue To(const std::vector<uint8_t> &v) {
    return XlangValue::Bytes(std::string(v.begin(), v.end()));
  }
  static void From(const XlangValue &v, std::vector<uint8_t> *out, const std::string &path) {
    if (v.kind() == XlangValue::Kind::kBytes || v.kind() == XlangValue::Kind::kString) {
      out->assign(v.data().begin(), v.data().end());
      return;
    }
    if (v.kind() == XlangValue::Kind::kArray && (v.dtype() == "uint8" || v.dtype() == "int8") &&
        v.shape().size() == 1) {
      out->assign(v.data().begin(), v.data().end());
      return;
    }
    if (v.kind() == XlangValue::Kind::kList) {
      out->clear();
      out->reserve(v.items().size());
      for (size_t i = 0; i < v.items().size(); ++i) {
        uint8_t b;
        XlangTraits<uint8_t>::From(v.items()[i], &b, path + "[" + std::to_string(i) + "]");
        out->push_back(b);
      }
      return;
    }
    ThrowTypeMismatch("an XLANG " + v.KindName(), path, "std::vector<uint8_t>");
  }
};

template <typename T>
struct XlangTraits<std::vector<T>,
                   std::enable_if_t<XlangTraits<T>::kSupported && !std::is_same_v<T, uint8_t>>> {
  static constexpr bool kSupported = true;
  static XlangValue To(const std::vector<T> &v) {
    std::vector<XlangValue> items;
    items.reserve(v.size());
    for (const auto &item : v) {
      items.push_back(XlangTraits<T>::To(item));
    }
    return XlangValue::List(std::move(items));
  }
  static void From(const XlangValue &v, std::vector<T> *out, const std::string &path) {
    if (v.kind() == XlangValue::Kind::kArray) {
      if constexpr (std::is_arithmetic_v<T>) {
        FromItems(ArrayElements(v, path), out, path);
        return;
      }
    }
    if (v.kind() != XlangValue::Kind::kList) {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, TypeName<std::vector<T>>());
    }
    FromItems(v.items(), out, path);
  }

 private:
  static void FromItems(const std::vector<XlangValue> &items, std::vector<T> *out,
                        const std::string &path) {
    out->clear();
    out->reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) {
      T item{};
      XlangTraits<T>::From(items[i], &item, path + "[" + std::to_string(i) + "]");
      out->push_back(std::move(item));
    }
  }
};

template <typename MapType, typename K, typename V>
struct XlangMapTraits {
  static constexpr bool kSupported = true;
  static XlangValue To(const MapType &m) {
    std::vector<XlangValue::Entry> entries;
    entries.reserve(m.size());
    for (const auto &[key, value] : m) {
      entries.emplace_back(XlangTraits<K>::To(key), XlangTraits<V>::To(value));
    }
    return XlangValue::Map(std::move(entries));
  }
  static void From(const XlangValue &v, MapType *out, const std::string &path) {
    if (v.kind() != XlangValue::Kind::kMap) {
      ThrowTypeMismatch("an XLANG " + v.KindName(), path, TypeName<MapType>());
    }
    out->clear();
    for (const auto &[key, value] : v.entries()) {
      K k{};
      XlangTraits<K>::From(key, &k, path + " key");
      V item{};
      XlangTraits<V>::From(value, &item, path + "[" + key.DebugString() + "]");
      (*out)[std::move(k)] = std::move(item);
    }
  }
};

template <typename K, typename V>
struct XlangTraits<std::map<K, V>,
                   std::enable_if_t<XlangTraits<K>::kSupported && XlangTraits<V>::kSupported>>
    : XlangMapTraits<std::map<K, V>, K, V> {};

template <typename K, typename V>
struct XlangTraits<std::unordered_map<K, V>,
                   std::enable_if_t<XlangTraits<K>::kSupported && XlangTraits<V>::kSupported>>
    : XlangMapTraits<std::unordered_map<K, V>, K, V> {};

template <typename T>
struct XlangTraits<std::optional<T>, std::enable_if_t<XlangTraits<T>::kSupported>> {
  static constexpr bool kSupported = true;
  static XlangValue To(const std::optional<T> &v) {
    return v.has_value() ? XlangTraits<T>::To(*v) : XlangValue::Null();
  }
  static void From(const XlangValue &v, std::optional<T> *out, const std::string &path) {
    if (v.is_null()) {
      out->reset();
      return;
    }
    T item{};
    XlangTraits<T>::From(v, &item, path);
    *out = std::move(item);
  }
};

template <typename T>
std::string Serializer::Serialize(const T &value, std::vector<std::string> *contained_ids) {
  using D = std::remove_cv_t<std::remove_reference_t<T>>;
  if constexpr (XlangTraits<D>::kSupported) {
    return EncodeXlang(XlangTraits<D>::To(value));
  } else {
    std::vector<std::string> ids;
    msgpack::sbuffer buffer;
    {
      ContainedIdCollector collector(&ids);
      msgpack::pack(buffer, value);
    }
    if (contained_ids != nullptr) {
      contained_ids->insert(contained_ids->end(), ids.begin(), ids.end());
    } else {
      for (const auto &id : ids) {
        ContainedIdCollector::Record(id);  // an enclosing collector, if any
      }
    }
    return EncodeCpp(TypeName<D>(), std::string_view(buffer.data(), buffer.size()));
  }
}

template <typename T>
void Serializer::DeserializeTo(std::string_view frame, T *out) {
  FrameView view = ParseFrame(frame);
  switch (view.format) {
    case ObjectFormat::kError:
      ThrowError(DecodeError(view));
    case ObjectFormat::kXlang:
      if constexpr (XlangTraits<T>::kSupported) {
        XlangTraits<T>::From(DecodeXlang(view), out, "value");
        return;
      } else {
        ThrowTypeMismatch("an XLANG " + DecodeXlang(view).KindName() +
                              " (a cross-language value)",
                          "",
                          TypeName<T>() + " (a C++-only type, read from C++ values only)");
      }
    case ObjectFormat::kCpp: {
      if (view.buffers.size() != 1) {
        throw RayException("malformed C++ value: expected 1 buffer, got " +
                           std::to_string(view.buffers.size()));
      }
      std::string_view data = view.buffers[0];
      try {
        msgpack::object_handle handle = msgpack::unpack(data.data(), data.size());
        handle.get().convert(*out);
      } catch (const msgpack::type_error &) {
        ThrowTypeMismatch("a C++ value of type " + LanguageValueTypeName(view), "",
                          TypeName<T>());
      } catch (const msgpack::unpack_error &e) {
        throw RayException("malformed C++ value of type " + LanguageValueTypeName(view) + ": " +
                           e.what());
      }
      return;
    }
    case ObjectFormat::kRaw:
      if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::vector<uint8_t>>) {
        if (view.buffers.size() != 1) {
          throw RayException("malformed RAW value: expected 1 buffer");
        }
        out->assign(view.buffers[0].begin(), view.buffers[0].end());
        return;
      } else {
        ThrowTypeMismatch("a RAW value (bytes)", "", TypeName<T>());
      }
    default:
      ThrowUnreadable(view, TypeName<T>());
  }
}

template <typename T>
std::shared_ptr<T> Serializer::Deserialize(std::string_view frame) {
  auto out = std::make_shared<T>();
  DeserializeTo(frame, out.get());
  return out;
}

}  // namespace internal
}  // namespace ray
