// The object frame and its formats (tests/xlang/README.md), over the generated ray.rpc types.

#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

#include "common.pb.h"
#include "ray/api/ray_exception.h"
#include "ray/api/serializer.h"
#include "ray/api/xlang_value.h"

namespace ray {
namespace internal {
namespace {

constexpr char kMagic[4] = {'R', 'X', 'O', '1'};
constexpr size_t kFixedSize = 24;
constexpr size_t kTableEntrySize = 16;
constexpr uint64_t kAlignment = 64;

uint64_t Align(uint64_t offset) { return (offset + kAlignment - 1) & ~(kAlignment - 1); }

void PutU32(std::string *out, size_t pos, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*out)[pos + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
void PutU64(std::string *out, size_t pos, uint64_t v) {
  for (int i = 0; i < 8; ++i) (*out)[pos + i] = static_cast<char>((v >> (8 * i)) & 0xFF);
}
uint32_t GetU32(const char *p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
uint64_t GetU64(const char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

[[noreturn]] void Malformed(const std::string &why) {
  throw RayException("malformed object frame: " + why);
}

bool KnownFormat(uint8_t format) { return format >= 1 && format <= 6; }

struct DtypeInfo {
  size_t itemsize;
};

const std::unordered_map<std::string, DtypeInfo> &Dtypes() {
  static const auto *dtypes = new std::unordered_map<std::string, DtypeInfo>{
      {"bool", {1}},   {"int8", {1}},   {"int16", {2}},  {"int32", {4}},
      {"int64", {8}},  {"uint8", {1}},  {"uint16", {2}}, {"uint32", {4}},
      {"uint64", {8}}, {"float32", {4}}, {"float64", {8}}};
  return *dtypes;
}

// Depth-first, pre-order: buffer k is the k-th bytes or array met.
void ToProto(const XlangValue &value, rpc::Value *msg, std::vector<std::string_view> *buffers) {
  switch (value.kind()) {
    case XlangValue::Kind::kNull:
      msg->mutable_null_value();
      break;
    case XlangValue::Kind::kBool:
      msg->set_bool_value(value.bool_value());
      break;
    case XlangValue::Kind::kInt:
      msg->set_int_value(value.int_value());
      break;
    case XlangValue::Kind::kFloat:
      msg->set_float_value(value.float_value());
      break;
    case XlangValue::Kind::kString:
      if (!IsValidUtf8(value.data())) {
        throw RayException("an XLANG string must be valid UTF-8 (write bytes instead)");
      }
      msg->set_string_value(value.data());
      break;
    case XlangValue::Kind::kBytes:
      msg->set_bytes_buffer(static_cast<uint32_t>(buffers->size()));
      buffers->emplace_back(value.data());
      break;
    case XlangValue::Kind::kList: {
      rpc::ValueList *list = msg->mutable_list_value();
      for (const auto &item : value.items()) ToProto(item, list->add_items(), buffers);
      break;
    }
    case XlangValue::Kind::kMap: {
      rpc::ValueMap *map = msg->mutable_map_value();
      for (const auto &[key, item] : value.entries()) {
        rpc::ValueMapEntry *entry = map->add_entries();
        ToProto(key, entry->mutable_key(), buffers);
        ToProto(item, entry->mutable_value(), buffers);
      }
      break;
    }
    case XlangValue::Kind::kArray: {
      auto it = Dtypes().find(value.dtype());
      if (it == Dtypes().end()) throw RayException("unknown XLANG array dtype " + value.dtype());
      uint64_t count = 1;
      for (int64_t dim : value.shape()) {
        if (dim < 0) throw RayException("an XLANG array has a negative dimension");
        count *= static_cast<uint64_t>(dim);
      }
      if (count * it->second.itemsize != value.data().size()) {
        throw RayException("XLANG array " + value.KindName() + " needs " +
                           std::to_string(count * it->second.itemsize) + " bytes, got " +
                           std::to_string(value.data().size()));
      }
      rpc::NDArray *array = msg->mutable_array_value();
      array->set_dtype(value.dtype());
      for (int64_t dim : value.shape()) array->add_shape(dim);
      array->set_data_buffer(static_cast<uint32_t>(buffers->size()));
      buffers->emplace_back(value.data());
      break;
    }
  }
}

std::string_view Buffer(const FrameView &frame, uint32_t index) {
  if (index >= frame.buffers.size()) {
    throw RayException("malformed XLANG value: it references buffer " + std::to_string(index) +
                       ", the frame has " + std::to_string(frame.buffers.size()));
  }
  return frame.buffers[index];
}

XlangValue FromProto(const rpc::Value &msg, const FrameView &frame) {
  switch (msg.kind_case()) {
    case rpc::Value::kNullValue:
      return XlangValue::Null();
    case rpc::Value::kBoolValue:
      return XlangValue::Bool(msg.bool_value());
    case rpc::Value::kIntValue:
      return XlangValue::Int(msg.int_value());
    case rpc::Value::kFloatValue:
      return XlangValue::Float(msg.float_value());
    case rpc::Value::kStringValue:
      return XlangValue::String(msg.string_value());
    case rpc::Value::kBytesBuffer:
      return XlangValue::Bytes(std::string(Buffer(frame, msg.bytes_buffer())));
    case rpc::Value::kListValue: {
      std::vector<XlangValue> items;
      items.reserve(msg.list_value().items_size());
      for (const auto &item : msg.list_value().items()) items.push_back(FromProto(item, frame));
      return XlangValue::List(std::move(items));
    }
    case rpc::Value::kMapValue: {
      std::vector<XlangValue::Entry> entries;
      entries.reserve(msg.map_value().entries_size());
      for (const auto &entry : msg.map_value().entries()) {
        entries.emplace_back(FromProto(entry.key(), frame), FromProto(entry.value(), frame));
      }
      return XlangValue::Map(std::move(entries));
    }
    case rpc::Value::kArrayValue: {
      const rpc::NDArray &array = msg.array_value();
      auto it = Dtypes().find(array.dtype());
      if (it == Dtypes().end()) {
        throw RayException("malformed XLANG value: unknown array dtype '" + array.dtype() + "'");
      }
      std::vector<int64_t> shape(array.shape().begin(), array.shape().end());
      uint64_t count = 1;
      for (int64_t dim : shape) {
        if (dim < 0) throw RayException("malformed XLANG value: negative array dimension");
        count *= static_cast<uint64_t>(dim);
      }
      std::string_view data = Buffer(frame, array.data_buffer());
      if (data.size() != count * it->second.itemsize) {
        throw RayException("malformed XLANG value: array " + array.dtype() + " needs " +
                           std::to_string(count * it->second.itemsize) +
                           " bytes, its buffer has " + std::to_string(data.size()));
      }
      return XlangValue::Array(array.dtype(), std::move(shape), std::string(data));
    }
    case rpc::Value::KIND_NOT_SET:
      break;
  }
  throw RayException("malformed XLANG value: a Value has no kind set");
}

}  // namespace

FrameView ParseFrame(std::string_view data) {
  if (data.size() < kFixedSize) {
    Malformed("it is " + std::to_string(data.size()) + " bytes, the fixed header alone is 24");
  }
  if (std::memcmp(data.data(), kMagic, 4) != 0) Malformed("bad magic (expected RXO1)");
  uint8_t format = static_cast<uint8_t>(data[4]);
  if (!KnownFormat(format)) Malformed("unknown object format " + std::to_string(format));
  uint64_t count = GetU32(data.data() + 8);
  uint64_t header_size = GetU64(data.data() + 16);
  uint64_t header_start = kFixedSize + kTableEntrySize * count;
  if (count > data.size() || header_start > data.size() ||
      header_size > data.size() - header_start) {
    Malformed(std::to_string(count) + " buffer entries and a " + std::to_string(header_size) +
              "-byte header do not fit in " + std::to_string(data.size()) + " bytes");
  }
  uint64_t header_end = header_start + header_size;
  FrameView view;
  view.format = static_cast<ObjectFormat>(format);
  view.header = data.substr(header_start, header_size);
  view.buffers.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const char *entry = data.data() + kFixedSize + kTableEntrySize * i;
    uint64_t offset = GetU64(entry);
    uint64_t size = GetU64(entry + 8);
    if (offset < header_end || offset > data.size() || size > data.size() - offset) {
      Malformed("buffer " + std::to_string(i) + " [" + std::to_string(offset) + ", +" +
                std::to_string(size) + ") lies outside the frame body");
    }
    view.buffers.push_back(data.substr(offset, size));
  }
  return view;
}

std::string BuildFrame(ObjectFormat format, std::string_view header,
                       const std::vector<std::string_view> &buffers) {
  const uint64_t count = buffers.size();
  const uint64_t header_start = kFixedSize + kTableEntrySize * count;
  uint64_t end = header_start + header.size();
  std::vector<uint64_t> offsets;
  offsets.reserve(count);
  for (const auto &buffer : buffers) {
    uint64_t offset = Align(end);
    offsets.push_back(offset);
    end = offset + buffer.size();
  }
  std::string out(end, '\0');
  std::memcpy(&out[0], kMagic, 4);
  out[4] = static_cast<char>(format);
  PutU32(&out, 8, static_cast<uint32_t>(count));
  PutU64(&out, 16, header.size());
  for (uint64_t i = 0; i < count; ++i) {
    PutU64(&out, kFixedSize + kTableEntrySize * i, offsets[i]);
    PutU64(&out, kFixedSize + kTableEntrySize * i + 8, buffers[i].size());
  }
  if (!header.empty()) std::memcpy(&out[header_start], header.data(), header.size());
  for (uint64_t i = 0; i < count; ++i) {
    if (!buffers[i].empty()) std::memcpy(&out[offsets[i]], buffers[i].data(), buffers[i].size());
  }
  return out;
}

std::string EncodeXlang(const XlangValue &value) {
  rpc::Value msg;
  std::vector<std::string_view> buffers;
  ToProto(value, &msg, &buffers);
  std::string header = msg.SerializeAsString();
  return BuildFrame(ObjectFormat::kXlang, header, buffers);
}

XlangValue DecodeXlang(const FrameView &frame) {
  if (frame.format != ObjectFormat::kXlang) {
    throw RayException("not an XLANG frame (format " +
                       std::to_string(static_cast<int>(frame.format)) + ")");
  }
  rpc::Value msg;
  if (!msg.ParseFromArray(frame.header.data(), static_cast<int>(frame.header.size()))) {
    throw RayException("malformed XLANG value: the header is not a ray.rpc.Value");
  }
  return FromProto(msg, frame);
}

std::string EncodeCpp(std::string_view type_name, std::string_view msgpack_bytes) {
  rpc::LanguageValueHeader header;
  header.set_type_name(std::string(type_name));
  return BuildFrame(ObjectFormat::kCpp, header.SerializeAsString(), {msgpack_bytes});
}

std::string LanguageValueTypeName(const FrameView &frame) {
  rpc::LanguageValueHeader header;
  if (!header.ParseFromArray(frame.header.data(), static_cast<int>(frame.header.size()))) {
    return "<unknown type>";
  }
  return header.type_name();
}

std::string EncodeRaw(std::string_view bytes) { return BuildFrame(ObjectFormat::kRaw, "", {bytes}); }

std::string EncodeError(const ErrorDetails &error) {
  rpc::ErrorInfo info;
  info.set_type(static_cast<rpc::ErrorType>(error.type));
  info.set_message(error.message);
  info.set_traceback(error.traceback);
  info.set_language(static_cast<rpc::Language>(error.language));
  info.set_exception_type(error.exception_type);
  info.set_task_id(error.task_id);
  info.set_actor_id(error.actor_id);
  return BuildFrame(ObjectFormat::kError, info.SerializeAsString(), {});
}

ErrorDetails DecodeError(const FrameView &frame) {
  rpc::ErrorInfo info;
  if (!info.ParseFromArray(frame.header.data(), static_cast<int>(frame.header.size()))) {
    throw RayException("malformed ERROR value: the header is not a ray.rpc.ErrorInfo");
  }
  ErrorDetails error;
  error.type = static_cast<ErrorType>(info.type());
  error.message = info.message();
  error.traceback = info.traceback();
  error.language = static_cast<Language>(info.language());
  error.exception_type = info.exception_type();
  error.task_id = info.task_id();
  error.actor_id = info.actor_id();
  return error;
}

std::vector<XlangValue> ArrayElements(const XlangValue &array, const std::string &path) {
  if (array.shape().size() != 1) {
    ThrowTypeMismatch("an XLANG " + array.KindName() + " (not one-dimensional)", path,
                      "a std::vector");
  }
  const std::string &dtype = array.dtype();
  const size_t itemsize = Dtypes().at(dtype).itemsize;
  const size_t count = static_cast<size_t>(array.shape()[0]);
  const char *p = array.data().data();
  std::vector<XlangValue> items;
  items.reserve(count);
  for (size_t i = 0; i < count; ++i, p += itemsize) {
    uint64_t raw = 0;
    for (size_t b = 0; b < itemsize; ++b) {
      raw |= static_cast<uint64_t>(static_cast<unsigned char>(p[b])) << (8 * b);
    }
    if (dtype == "bool") {
      items.push_back(XlangValue::Bool(raw != 0));
    } else if (dtype == "float32") {
      float f;
      uint32_t bits = static_cast<uint32_t>(raw);
      std::memcpy(&f, &bits, 4);
      items.push_back(XlangValue::Float(f));
    } else if (dtype == "float64") {
      double d;
      std::memcpy(&d, &raw, 8);
      items.push_back(XlangValue::Float(d));
    } else if (dtype[0] == 'u') {
      if (raw > static_cast<uint64_t>(INT64_MAX)) {
        ThrowTypeMismatch("the uint64 " + std::to_string(raw) + " (above INT64_MAX)",
                          path + "[" + std::to_string(i) + "]", "int64_t");
      }
      items.push_back(XlangValue::Int(static_cast<int64_t>(raw)));
    } else {
      // Sign-extend an itemsize-byte two's complement integer.
      int shift = static_cast<int>(64 - 8 * itemsize);
      int64_t v = static_cast<int64_t>(raw << shift) >> shift;
      items.push_back(XlangValue::Int(v));
    }
  }
  return items;
}

}  // namespace internal
}  // namespace ray
