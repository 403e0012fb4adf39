// Every vector of tests/xlang/ (the cross-language byte format, tests/xlang/README.md):
// decoding <name>.bin gives the manifest's value, and encoding that value gives exactly the
// bytes of <name>.bin.

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>
#include <ray/api.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;
using ray::internal::ErrorDetails;
using ray::internal::ErrorType;
using ray::internal::Language;
using ray::internal::ObjectFormat;
using ray::internal::XlangValue;

std::string VectorsDir() {
  // Set by CMake to <repo>/tests/xlang; RAY_XLANG_VECTORS_DIR in the environment overrides it.
  if (const char *dir = std::getenv("RAY_XLANG_VECTORS_DIR")) return dir;
  return RAY_XLANG_VECTORS_DIR;
}

std::string ReadFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string FromHex(const std::string &hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

const Struct &Manifest() {
  static const Struct *manifest = [] {
    auto *m = new Struct();
    auto status = google::protobuf::util::JsonStringToMessage(
        ReadFile(VectorsDir() + "/vectors.json"), m);
    if (!status.ok()) throw std::runtime_error("vectors.json: " + status.ToString());
    return m;
  }();
  return *manifest;
}

struct Vector {
  std::string name;
  std::string format;
  Value value;
};

std::vector<Vector> LoadVectors() {
  std::vector<Vector> vectors;
  try {
    for (const auto &v : Manifest().fields().at("vectors").list_value().values()) {
      const auto &f = v.struct_value().fields();
      vectors.push_back({f.at("name").string_value(), f.at("format").string_value(), f.at("value")});
    }
  } catch (const std::exception &e) {
    ADD_FAILURE() << "loading " << VectorsDir() << "/vectors.json: " << e.what();
  }
  return vectors;
}

// Rebuilds a manifest value ("typed JSON", README section 5).
XlangValue ToXlang(const Value &node) {
  const auto &fields = node.struct_value().fields();
  if (fields.size() != 1) throw std::runtime_error("a typed JSON node has exactly one key");
  const auto &[kind, v] = *fields.begin();
  if (kind == "null") return XlangValue::Null();
  if (kind == "bool") return XlangValue::Bool(v.bool_value());
  if (kind == "int") return XlangValue::Int(std::stoll(v.string_value()));
  if (kind == "float") return XlangValue::Float(std::strtod(v.string_value().c_str(), nullptr));
  if (kind == "str") return XlangValue::String(v.string_value());
  if (kind == "bytes_hex") return XlangValue::Bytes(FromHex(v.string_value()));
  if (kind == "list") {
    std::vector<XlangValue> items;
    for (const auto &item : v.list_value().values()) items.push_back(ToXlang(item));
    return XlangValue::List(std::move(items));
  }
  if (kind == "map") {
    std::vector<XlangValue::Entry> entries;
    for (const auto &pair : v.list_value().values()) {
      entries.emplace_back(ToXlang(pair.list_value().values(0)), ToXlang(pair.list_value().values(1)));
    }
    return XlangValue::Map(std::move(entries));
  }
  if (kind == "array") {
    const auto &a = v.struct_value().fields();
    std::vector<int64_t> shape;
    for (const auto &dim : a.at("shape").list_value().values()) {
      shape.push_back(static_cast<int64_t>(dim.number_value()));
    }
    return XlangValue::Array(a.at("dtype").string_value(), shape,
                             FromHex(a.at("data_hex").string_value()));
  }
  throw std::runtime_error("unknown typed JSON kind " + kind);
}

ErrorDetails ToError(const Value &node) {
  const auto &f = node.struct_value().fields().at("error").struct_value().fields();
  ErrorDetails error;
  auto text = [&](const char *key) {
    auto it = f.find(key);
    return it == f.end() ? std::string() : it->second.string_value();
  };
  const std::string type = text("type");
  EXPECT_EQ(type, "ERROR_TYPE_TASK_EXECUTION") << "extend ToError for " << type;
  error.type = ErrorType::kTaskExecution;
  const std::string language = text("language");
  error.language = language == "LANGUAGE_PYTHON" ? Language::kPython
                   : language == "LANGUAGE_JAVA" ? Language::kJava
                   : language == "LANGUAGE_CPP"  ? Language::kCpp
                                                 : Language::kUnspecified;
  error.message = text("message");
  error.traceback = text("traceback");
  error.exception_type = text("exception_type");
  error.task_id = FromHex(text("task_id_hex"));
  error.actor_id = FromHex(text("actor_id_hex"));
  return error;
}

// gtest prints a parameter with PrintTo: the vector's name, not its bytes.
void PrintTo(const Vector &v, std::ostream *os) { *os << v.name; }

class XlangVectorTest : public testing::TestWithParam<Vector> {};

TEST_P(XlangVectorTest, DecodesAndReencodesByteExactly) {
  const Vector &v = GetParam();
  const std::string bin = ReadFile(VectorsDir() + "/" + v.name + ".bin");
  ray::internal::FrameView frame = ray::internal::ParseFrame(bin);
  if (v.format == "XLANG") {
    ASSERT_EQ(frame.format, ObjectFormat::kXlang);
    XlangValue expected = ToXlang(v.value);
    XlangValue decoded = ray::internal::DecodeXlang(frame);
    EXPECT_EQ(decoded, expected) << "decoded " << decoded.DebugString() << "\nexpected "
                                 << expected.DebugString();
    EXPECT_EQ(ray::internal::EncodeXlang(expected), bin);
  } else if (v.format == "RAW") {
    ASSERT_EQ(frame.format, ObjectFormat::kRaw);
    const std::string bytes = FromHex(v.value.struct_value().fields().at("bytes_hex").string_value());
    ASSERT_EQ(frame.buffers.size(), 1u);
    EXPECT_EQ(std::string(frame.buffers[0]), bytes);
    EXPECT_EQ(*ray::internal::Serializer::Deserialize<std::string>(bin), bytes);
    EXPECT_EQ(ray::internal::EncodeRaw(bytes), bin);
  } else if (v.format == "ERROR") {
    ASSERT_EQ(frame.format, ObjectFormat::kError);
    ErrorDetails expected = ToError(v.value);
    ErrorDetails decoded = ray::internal::DecodeError(frame);
    EXPECT_EQ(static_cast<int>(decoded.type), static_cast<int>(expected.type));
    EXPECT_EQ(static_cast<int>(decoded.language), static_cast<int>(expected.language));
    EXPECT_EQ(decoded.message, expected.message);
    EXPECT_EQ(decoded.traceback, expected.traceback);
    EXPECT_EQ(decoded.exception_type, expected.exception_type);
    EXPECT_EQ(decoded.task_id, expected.task_id);
    EXPECT_EQ(ray::internal::EncodeError(expected), bin);
    // Reading it raises the task error with the remote type and traceback.
    try {
      ray::internal::Serializer::Deserialize<int>(bin);
      FAIL() << "an ERROR frame must raise";
    } catch (const ray::internal::RayTaskException &e) {
      EXPECT_EQ(e.RemoteType(), expected.exception_type);
      EXPECT_EQ(e.Traceback(), expected.traceback);
      EXPECT_NE(std::string(e.what()).find(expected.message), std::string::npos);
    }
  } else {
    FAIL() << "unknown vector format " << v.format;
  }
}

INSTANTIATE_TEST_SUITE_P(Vectors, XlangVectorTest, testing::ValuesIn(LoadVectors()),
                         [](const testing::TestParamInfo<Vector> &info) { return info.param.name; });

TEST(XlangVectors, ManifestHasEveryBinFile) {
  // The suite above must not pass by finding nothing: every .bin has a manifest entry.
  auto vectors = LoadVectors();
  EXPECT_GE(vectors.size(), 33u);
  std::set<std::string> names;
  for (const auto &v : vectors) names.insert(v.name);
  for (const char *expected : {"int_42", "nested_buffers", "array_float64_2x3", "raw_empty",
                               "error_task_execution", "str_unicode", "int64_min"}) {
    EXPECT_TRUE(names.count(expected)) << expected;
  }
}

// The typed C++ mapping writes the same bytes as the vectors where the types coincide.
TEST(XlangVectors, TypedValuesMatchVectors) {
  using ray::internal::Serializer;
  auto bin = [](const char *name) { return ReadFile(VectorsDir() + "/" + name + ".bin"); };
  EXPECT_EQ(Serializer::Serialize(int64_t{42}), bin("int_42"));
  EXPECT_EQ(Serializer::Serialize(42), bin("int_42"));
  EXPECT_EQ(Serializer::Serialize(INT64_MIN), bin("int64_min"));
  EXPECT_EQ(Serializer::Serialize(INT64_MAX), bin("int64_max"));
  EXPECT_EQ(Serializer::Serialize(true), bin("bool_true"));
  EXPECT_EQ(Serializer::Serialize(false), bin("bool_false"));
  EXPECT_EQ(Serializer::Serialize(0.5), bin("float_0_5"));
  EXPECT_EQ(Serializer::Serialize(-0.0), bin("float_neg_zero"));
  EXPECT_EQ(Serializer::Serialize(std::string("hello, world")), bin("str_ascii"));
  EXPECT_EQ(Serializer::Serialize(std::string("")), bin("str_empty"));
  EXPECT_EQ(Serializer::Serialize(std::vector<uint8_t>{0x00, 0x01, 0xfe, 0xff}), bin("bytes_small"));
  EXPECT_EQ(Serializer::Serialize(std::vector<int>{}), bin("list_empty"));
  EXPECT_EQ(Serializer::Serialize(std::map<std::string, int>{}), bin("map_empty"));
  EXPECT_EQ(Serializer::Serialize(nullptr), bin("null"));
  EXPECT_EQ(Serializer::Serialize(std::vector<std::vector<int>>{{1, 2}, {}}),
            ray::internal::EncodeXlang(XlangValue::List(
                {XlangValue::List({XlangValue::Int(1), XlangValue::Int(2)}), XlangValue::List()})));
  // Reading the vectors into C++ types.
  EXPECT_EQ(*Serializer::Deserialize<int64_t>(bin("int64_min")), INT64_MIN);
  EXPECT_EQ(*Serializer::Deserialize<std::string>(bin("str_unicode")),
            "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x9a\x80");
  EXPECT_EQ(*Serializer::Deserialize<std::vector<int32_t>>(bin("array_int32_1d")),
            (std::vector<int32_t>{1, -2, 3}));
  EXPECT_EQ(*Serializer::Deserialize<std::vector<bool>>(bin("array_bool")),
            (std::vector<bool>{true, false, true}));
  EXPECT_EQ(*Serializer::Deserialize<std::vector<uint8_t>>(bin("array_uint8_empty")),
            std::vector<uint8_t>{});
  // map_int_keys holds a float value among strings: no std::map<int64_t, std::string> reads it.
  using IntKeyed = std::map<int64_t, std::string>;
  EXPECT_THROW(Serializer::Deserialize<IntKeyed>(bin("map_int_keys")), ray::internal::RayException);
}

}  // namespace
