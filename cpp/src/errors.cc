// Exceptions for ERROR values, type-mismatch messages, type names, UTF-8 checks, and the
// XlangValue helpers (ray/api/serializer.h, ray/api/xlang_value.h).

#include <cxxabi.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>

#include "ray/api/ray_exception.h"
#include "ray/api/serializer.h"
#include "ray/api/xlang_value.h"

namespace ray {
namespace internal {

std::string DemangleTypeName(const char *mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void *)> demangled(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  std::string name = (status == 0 && demangled) ? demangled.get() : mangled;
  // Readable standard names in messages.
  const std::string long_string =
      "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >";
  for (size_t pos; (pos = name.find(long_string)) != std::string::npos;) {
    name.replace(pos, long_string.size(), "std::string");
  }
  return name;
}

bool IsValidUtf8(std::string_view text) {
  const auto *s = reinterpret_cast<const unsigned char *>(text.data());
  size_t n = text.size();
  size_t i = 0;
  while (i < n) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    // Overlong forms, surrogates and values above U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

void ThrowError(const ErrorDetails &error) {
  std::string message = error.message;
  if (message.empty()) message = "the task failed (no message)";
  const std::string &type = error.exception_type;
  const std::string &tb = error.traceback;
  switch (error.type) {
    case ErrorType::kTaskExecution:
      throw RayTaskException(message, type, tb);
    case ErrorType::kTaskCancelled:
      throw RayTaskCancelledException(message, type, tb);
    case ErrorType::kWorkerDied:
      throw RayWorkerException(message, type, tb);
    case ErrorType::kActorDied:
    case ErrorType::kActorUnavailable:
      throw RayActorException(message, type, tb);
    case ErrorType::kObjectLost:
    case ErrorType::kOwnerDied:
      throw UnreconstructableException(message, type, tb);
    case ErrorType::kObjectStoreFull:
      throw RayObjectStoreFullException(message, type, tb);
    default:
      throw RayException(message, type, tb);
  }
}

void ThrowUnreadable(const FrameView &frame, const std::string &cpp_type) {
  switch (frame.format) {
    case ObjectFormat::kPickle5:
      throw RayException("cannot read a Python-only value (format PICKLE5) as C++ type " +
                         cpp_type +
                         ": return or put cross-language values (None, bool, int, float, str, "
                         "bytes, list, dict, numpy arrays) from Python");
    case ObjectFormat::kJava:
      throw RayException("cannot read a Java-only value (format JAVA) of type " +
                         LanguageValueTypeName(frame) + " as C++ type " + cpp_type);
    default:
      throw RayException("cannot read a value of unknown format " +
                         std::to_string(static_cast<int>(frame.format)) + " as C++ type " +
                         cpp_type);
  }
}

void ThrowTypeMismatch(const std::string &what, const std::string &path,
                       const std::string &cpp_type) {
  std::string where = (path.empty() || path == "value") ? "" : " at " + path;
  throw RayException("cannot read " + what + where + " as C++ type " + cpp_type);
}

namespace {
thread_local std::vector<std::string> *current_collector = nullptr;
}  // namespace

ContainedIdCollector::ContainedIdCollector(std::vector<std::string> *out)
    : previous_(current_collector) {
  current_collector = out;
}

ContainedIdCollector::~ContainedIdCollector() { current_collector = previous_; }

void ContainedIdCollector::Record(const std::string &id) {
  if (current_collector != nullptr && !id.empty()) {
    current_collector->push_back(id);
  }
}

// ---- XlangValue ----------------------------------------------------------------------------

bool XlangValue::operator==(const XlangValue &other) const {
  if (kind_ != other.kind_) return false;
  switch (kind_) {
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return bool_value_ == other.bool_value_;
    case Kind::kInt:
      return int_value_ == other.int_value_;
    case Kind::kFloat:
      return std::memcmp(&float_value_, &other.float_value_, sizeof(double)) == 0;
    case Kind::kString:
    case Kind::kBytes:
      return data_ == other.data_;
    case Kind::kList:
      return items_ == other.items_;
    case Kind::kMap:
      return entries_ == other.entries_;
    case Kind::kArray:
      return dtype_ == other.dtype_ && shape_ == other.shape_ && data_ == other.data_;
  }
  return false;
}

std::string XlangValue::KindName() const {
  switch (kind_) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kBytes:
      return "bytes";
    case Kind::kList:
      return "list";
    case Kind::kMap:
      return "map";
    case Kind::kArray: {
      std::string name = "array " + dtype_ + "[";
      for (size_t i = 0; i < shape_.size(); ++i) {
        name += (i ? "," : "") + std::to_string(shape_[i]);
      }
      return name + "]";
    }
  }
  return "?";
}

namespace {
std::string Hex(const std::string &bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}
}  // namespace

std::string XlangValue::DebugString() const {
  std::ostringstream out;
  switch (kind_) {
    case Kind::kNull:
      out << "null";
      break;
    case Kind::kBool:
      out << (bool_value_ ? "true" : "false");
      break;
    case Kind::kInt:
      out << int_value_;
      break;
    case Kind::kFloat:
      out.precision(17);
      out << float_value_;
      break;
    case Kind::kString:
      out << '"' << data_ << '"';
      break;
    case Kind::kBytes:
      out << "b'" << Hex(data_) << "'";
      break;
    case Kind::kList:
      out << "[";
      for (size_t i = 0; i < items_.size(); ++i) out << (i ? ", " : "") << items_[i].DebugString();
      out << "]";
      break;
    case Kind::kMap:
      out << "{";
      for (size_t i = 0; i < entries_.size(); ++i) {
        out << (i ? ", " : "") << entries_[i].first.DebugString() << ": "
            << entries_[i].second.DebugString();
      }
      out << "}";
      break;
    case Kind::kArray:
      out << KindName() << "(" << Hex(data_) << ")";
      break;
  }
  return out.str();
}

}  // namespace internal
}  // namespace ray
