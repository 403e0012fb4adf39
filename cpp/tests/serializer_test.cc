// The C++ mapping of values (ray/api/serializer.h): XLANG round trips, widenings, msgpack user
// types in OBJECT_FORMAT_CPP, errors, and frames C++ cannot read.

#include <gtest/gtest.h>
#include <ray/api.h>

#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "test_functions.h"

namespace {

using ray::internal::ErrorDetails;
using ray::internal::ErrorType;
using ray::internal::FrameView;
using ray::internal::ObjectFormat;
using ray::internal::RayException;
using ray::internal::Serializer;
using ray::internal::XlangValue;

template <typename T>
T RoundTrip(const T &value) {
  std::string frame = Serializer::Serialize(value);
  return *Serializer::Deserialize<T>(frame);
}

ObjectFormat FormatOf(const std::string &frame) { return ray::internal::ParseFrame(frame).format; }

XlangValue Decode(const std::string &frame) {
  return ray::internal::DecodeXlang(ray::internal::ParseFrame(frame));
}

// Expects `fn` to throw a RayException whose message contains every fragment.
template <typename Fn>
void ExpectRayError(Fn fn, std::vector<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected a RayException";
  } catch (const RayException &e) {
    for (const auto &f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "message '" << e.what() << "' lacks '" << f << "'";
    }
  }
}

TEST(Serializer, ScalarsRoundTripAsXlang) {
  EXPECT_EQ(RoundTrip(true), true);
  EXPECT_EQ(RoundTrip(false), false);
  EXPECT_EQ(RoundTrip(0), 0);
  EXPECT_EQ(RoundTrip(-17), -17);
  EXPECT_EQ(RoundTrip(int8_t{-128}), -128);
  EXPECT_EQ(RoundTrip(uint16_t{65535}), 65535);
  EXPECT_EQ(RoundTrip(1.25), 1.25);
  EXPECT_EQ(RoundTrip(2.5f), 2.5f);
  EXPECT_EQ(RoundTrip(std::string("h\xc3\xa9llo")), "h\xc3\xa9llo");
  EXPECT_EQ(FormatOf(Serializer::Serialize(7)), ObjectFormat::kXlang);
  EXPECT_EQ(FormatOf(Serializer::Serialize(std::string("x"))), ObjectFormat::kXlang);
  double nan = RoundTrip(std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(std::isnan(nan));
  EXPECT_TRUE(std::signbit(RoundTrip(-0.0)));
}

TEST(Serializer, LargeIntegersStayIntact) {
  const int64_t above_32 = (int64_t{1} << 32) + 5;
  EXPECT_EQ(RoundTrip(above_32), above_32);
  EXPECT_EQ(RoundTrip(-above_32), -above_32);
  EXPECT_EQ(RoundTrip(uint32_t{4294967295u}), 4294967295u);
  EXPECT_EQ(RoundTrip(uint64_t{1} << 40), uint64_t{1} << 40);
  EXPECT_EQ(RoundTrip(std::numeric_limits<int64_t>::max()), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(RoundTrip(std::numeric_limits<int64_t>::min()), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(Decode(Serializer::Serialize(above_32)), XlangValue::Int(above_32));
  ExpectRayError([] { Serializer::Serialize(std::numeric_limits<uint64_t>::max()); },
                 {"uint64_t", "INT64_MAX"});
}

TEST(Serializer, IntegersAreRangeChecked) {
  std::string big = Serializer::Serialize(int64_t{300});
  EXPECT_EQ(*Serializer::Deserialize<int16_t>(big), 300);
  ExpectRayError([&] { Serializer::Deserialize<int8_t>(big); }, {"300", "int8_t"});
  ExpectRayError([&] { Serializer::Deserialize<uint32_t>(Serializer::Serialize(-1)); },
                 {"-1", "uint32_t"});
  ExpectRayError([&] { Serializer::Deserialize<int32_t>(Serializer::Serialize(int64_t{1} << 40)); },
                 {"int32_t"});
}

TEST(Serializer, WideningsOnRead) {
  // An int reads as a double, bytes as a std::string.
  EXPECT_EQ(*Serializer::Deserialize<double>(Serializer::Serialize(3)), 3.0);
  EXPECT_EQ(*Serializer::Deserialize<std::string>(Serializer::Serialize(std::vector<uint8_t>{'a', 'b'})),
            "ab");
  // A float does not silently become an int.
  ExpectRayError([] { Serializer::Deserialize<int>(Serializer::Serialize(1.5)); },
                 {"XLANG float", "int32_t"});
}

TEST(Serializer, StringsThatAreNotUtf8TravelAsBytes) {
  std::string binary("\xff\xfe\x00\x01", 4);
  std::string frame = Serializer::Serialize(binary);
  EXPECT_EQ(Decode(frame).kind(), XlangValue::Kind::kBytes);
  EXPECT_EQ(*Serializer::Deserialize<std::string>(frame), binary);
  EXPECT_EQ(Decode(Serializer::Serialize(std::string("ok"))).kind(), XlangValue::Kind::kString);
}

TEST(Serializer, ContainersRoundTrip) {
  std::vector<int64_t> ints = {1, -2, int64_t{1} << 33};
  EXPECT_EQ(RoundTrip(ints), ints);
  std::vector<std::string> strings = {"a", "", "c"};
  EXPECT_EQ(RoundTrip(strings), strings);
  std::vector<bool> bools = {true, false, true};
  EXPECT_EQ(RoundTrip(bools), bools);
  std::vector<uint8_t> bytes = {0, 1, 255};
  EXPECT_EQ(RoundTrip(bytes), bytes);
  EXPECT_EQ(Decode(Serializer::Serialize(bytes)).kind(), XlangValue::Kind::kBytes);
  std::map<std::string, std::vector<double>> nested = {{"a", {1.5, 2}}, {"b", {}}};
  EXPECT_EQ(RoundTrip(nested), nested);
  std::map<int, std::string> int_keys = {{1, "one"}, {-2, "minus two"}};
  EXPECT_EQ(RoundTrip(int_keys), int_keys);
  std::unordered_map<std::string, int> unordered = {{"x", 1}, {"y", 2}};
  EXPECT_EQ(RoundTrip(unordered), unordered);
  std::vector<std::map<std::string, int>> list_of_maps = {{{"k", 1}}, {}};
  EXPECT_EQ(RoundTrip(list_of_maps), list_of_maps);
  std::optional<int> none;
  EXPECT_EQ(RoundTrip(none), std::nullopt);
  EXPECT_EQ(RoundTrip(std::optional<int>(4)), 4);
  EXPECT_TRUE(Decode(Serializer::Serialize(none)).is_null());
  // The XLANG shape of a vector is a list; of a map, a map with entries in order.
  EXPECT_EQ(Decode(Serializer::Serialize(std::vector<int>{1, 2})),
            XlangValue::List({XlangValue::Int(1), XlangValue::Int(2)}));
  EXPECT_EQ(Decode(Serializer::Serialize(std::map<std::string, bool>{{"a", true}, {"b", false}})),
            XlangValue::Map({{XlangValue::String("a"), XlangValue::Bool(true)},
                             {XlangValue::String("b"), XlangValue::Bool(false)}}));
}

std::string Int16Array(std::vector<int16_t> values, std::vector<int64_t> shape) {
  std::string data;
  for (int16_t v : values) {
    data.push_back(static_cast<char>(v & 0xFF));
    data.push_back(static_cast<char>((v >> 8) & 0xFF));
  }
  return ray::internal::EncodeXlang(XlangValue::Array("int16", shape, data));
}

TEST(Serializer, NumericVectorsReadFromArrays) {
  std::string frame = Int16Array({1, -2, 300}, {3});
  EXPECT_EQ(*Serializer::Deserialize<std::vector<int64_t>>(frame), (std::vector<int64_t>{1, -2, 300}));
  EXPECT_EQ(*Serializer::Deserialize<std::vector<double>>(frame), (std::vector<double>{1, -2, 300}));
  EXPECT_EQ(*Serializer::Deserialize<std::vector<int16_t>>(frame), (std::vector<int16_t>{1, -2, 300}));
  ExpectRayError([&] { Serializer::Deserialize<std::vector<int8_t>>(frame); }, {"300", "int8_t"});
  ExpectRayError([&] { Serializer::Deserialize<std::vector<uint16_t>>(frame); }, {"-2", "uint16_t"});
  // float64 and uint64 arrays.
  double values[2] = {0.5, -1.0};
  std::string f64(reinterpret_cast<const char *>(values), sizeof(values));
  EXPECT_EQ(*Serializer::Deserialize<std::vector<double>>(
                ray::internal::EncodeXlang(XlangValue::Array("float64", {2}, f64))),
            (std::vector<double>{0.5, -1.0}));
  std::string u64(8, '\xff');
  ExpectRayError(
      [&] {
        Serializer::Deserialize<std::vector<uint64_t>>(
            ray::internal::EncodeXlang(XlangValue::Array("uint64", {1}, u64)));
      },
      {"INT64_MAX"});
  // Only one-dimensional arrays are vectors.
  ExpectRayError([] { Serializer::Deserialize<std::vector<int>>(Int16Array({1, 2, 3, 4}, {2, 2})); },
                 {"array int16[2,2]", "one-dimensional"});
  // A uint8 array is bytes.
  EXPECT_EQ(*Serializer::Deserialize<std::vector<uint8_t>>(
                ray::internal::EncodeXlang(XlangValue::Array("uint8", {3}, "abc"))),
            (std::vector<uint8_t>{'a', 'b', 'c'}));
}

TEST(Serializer, MismatchesNameBothTypes) {
  ExpectRayError([] { Serializer::Deserialize<int>(Serializer::Serialize(std::string("x"))); },
                 {"XLANG str", "int32_t"});
  ExpectRayError(
      [] { Serializer::Deserialize<std::vector<int>>(Serializer::Serialize(std::vector<std::string>{"a"})); },
      {"XLANG str", "value[0]", "int32_t"});
  ExpectRayError(
      [] { Serializer::Deserialize<std::map<std::string, int>>(Serializer::Serialize(std::vector<int>{1})); },
      {"XLANG list", "std::map<std::string, int32_t>"});
  ExpectRayError([] { Serializer::Deserialize<bool>(Serializer::Serialize(1)); },
                 {"XLANG int", "bool"});
}

TEST(Serializer, UserTypesTravelInTheCppFormat) {
  test_types::Point p{3, -4, "corner"};
  std::string frame = Serializer::Serialize(p);
  FrameView view = ray::internal::ParseFrame(frame);
  ASSERT_EQ(view.format, ObjectFormat::kCpp);
  EXPECT_EQ(ray::internal::LanguageValueTypeName(view), "test_types::Point");
  ASSERT_EQ(view.buffers.size(), 1u);
  auto back = *Serializer::Deserialize<test_types::Point>(frame);
  EXPECT_EQ(back.x, 3);
  EXPECT_EQ(back.y, -4);
  EXPECT_EQ(back.label, "corner");
  // Containers of user types are C++-only values too.
  std::vector<test_types::Point> points = {p, {1, 2, "b"}};
  std::string many = Serializer::Serialize(points);
  EXPECT_EQ(FormatOf(many), ObjectFormat::kCpp);
  auto points_back = *Serializer::Deserialize<std::vector<test_types::Point>>(many);
  ASSERT_EQ(points_back.size(), 2u);
  EXPECT_EQ(points_back[1].label, "b");
  // The msgpack bytes are what msgpack writes for the type.
  msgpack::sbuffer expected;
  msgpack::pack(expected, p);
  EXPECT_EQ(std::string(view.buffers[0]), std::string(expected.data(), expected.size()));
}

TEST(Serializer, CppValuesOfTheWrongTypeNameBoth) {
  std::string frame = Serializer::Serialize(test_types::Point{1, 2, "p"});
  ExpectRayError([&] { Serializer::Deserialize<int>(frame); },
                 {"C++ value of type test_types::Point", "int32_t"});
  // A C++-only type cannot come from a cross-language value.
  ExpectRayError([] { Serializer::Deserialize<test_types::Point>(Serializer::Serialize(1)); },
                 {"XLANG int", "test_types::Point"});
}

TEST(Serializer, ErrorFramesRaiseTheirException) {
  auto frame = [](ErrorType type) {
    ErrorDetails error;
    error.type = type;
    error.message = "it broke";
    error.traceback = "Traceback: line 1";
    error.exception_type = "builtins.ValueError";
    return ray::internal::EncodeError(error);
  };
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kTaskExecution)),
               ray::internal::RayTaskException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kActorDied)),
               ray::internal::RayActorException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kActorUnavailable)),
               ray::internal::RayActorException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kWorkerDied)),
               ray::internal::RayWorkerException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kObjectLost)),
               ray::internal::UnreconstructableException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kOwnerDied)),
               ray::internal::UnreconstructableException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kTaskCancelled)),
               ray::internal::RayTaskCancelledException);
  EXPECT_THROW(Serializer::Deserialize<int>(frame(ErrorType::kObjectStoreFull)),
               ray::internal::RayObjectStoreFullException);
  EXPECT_THROW(Serializer::CheckNoError(frame(ErrorType::kTaskExecution)),
               ray::internal::RayTaskException);
  EXPECT_NO_THROW(Serializer::CheckNoError(Serializer::Serialize(1)));
  try {
    Serializer::Deserialize<std::string>(frame(ErrorType::kTaskExecution));
    FAIL();
  } catch (const ray::internal::RayTaskException &e) {
    EXPECT_EQ(e.RemoteType(), "builtins.ValueError");
    EXPECT_EQ(e.Traceback(), "Traceback: line 1");
    EXPECT_EQ(std::string(e.what()), "it broke\nTraceback: line 1");
  }
}

TEST(Serializer, OtherLanguagesFormatsAreNamed) {
  std::string pickle = ray::internal::BuildFrame(ObjectFormat::kPickle5, "\x80\x05.", {});
  ExpectRayError([&] { Serializer::Deserialize<int>(pickle); }, {"PICKLE5", "Python-only", "int32_t"});
  std::string java = ray::internal::BuildFrame(ObjectFormat::kJava, "\x0a\x11" "com.example.Point", {"x"});
  ExpectRayError([&] { Serializer::Deserialize<int>(java); }, {"JAVA", "com.example.Point", "int32_t"});
}

TEST(Serializer, RawFramesReadAsBytes) {
  std::string raw = ray::internal::EncodeRaw("abc");
  EXPECT_EQ(*Serializer::Deserialize<std::string>(raw), "abc");
  EXPECT_EQ(*Serializer::Deserialize<std::vector<uint8_t>>(raw), (std::vector<uint8_t>{'a', 'b', 'c'}));
  ExpectRayError([&] { Serializer::Deserialize<int>(raw); }, {"RAW", "int32_t"});
}

TEST(Serializer, MalformedFramesAreRejected) {
  std::string good = Serializer::Serialize(std::vector<uint8_t>{1, 2, 3});
  ExpectRayError([] { ray::internal::ParseFrame("RXO1"); }, {"malformed object frame"});
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  ExpectRayError([&] { ray::internal::ParseFrame(bad_magic); }, {"bad magic"});
  std::string bad_format = good;
  bad_format[4] = 9;
  ExpectRayError([&] { ray::internal::ParseFrame(bad_format); }, {"unknown object format 9"});
  ExpectRayError([&] { ray::internal::ParseFrame(good.substr(0, good.size() - 1)); },
                 {"outside the frame body"});
  std::string huge_table = good;
  huge_table[8] = '\x7f';
  ExpectRayError([&] { ray::internal::ParseFrame(huge_table); }, {"do not fit"});
  // Bytes after the frame are ignored.
  EXPECT_EQ(*Serializer::Deserialize<std::vector<uint8_t>>(good + "trailing"),
            (std::vector<uint8_t>{1, 2, 3}));
  // An XLANG value referencing a missing buffer.
  std::string header = "\x30\x05";  // bytes_buffer = 5
  ExpectRayError(
      [&] { ray::internal::DecodeXlang(ray::internal::ParseFrame(
                ray::internal::BuildFrame(ObjectFormat::kXlang, header, {}))); },
      {"buffer 5"});
}

TEST(Serializer, FrameLayoutAlignsBuffers) {
  std::string frame = ray::internal::BuildFrame(ObjectFormat::kRaw, "", {"a", ""});
  FrameView view = ray::internal::ParseFrame(frame);
  ASSERT_EQ(view.buffers.size(), 2u);
  EXPECT_EQ(view.buffers[0].data() - frame.data(), 64);
  EXPECT_EQ(view.buffers[1].data() - frame.data(), 128);
  EXPECT_EQ(frame.size(), 128u);
}

TEST(Serializer, ObjectRefsInsideValuesAreCollected) {
  // No runtime is installed: refs made from ids count nothing, but serializing records them.
  std::vector<ray::ObjectRef<int>> refs = {ray::ObjectRef<int>(std::string(28, 'a')),
                                           ray::ObjectRef<int>(std::string(28, 'b'))};
  std::vector<std::string> contained;
  std::string frame = Serializer::Serialize(refs, &contained);
  EXPECT_EQ(FormatOf(frame), ObjectFormat::kCpp);
  EXPECT_EQ(contained, (std::vector<std::string>{std::string(28, 'a'), std::string(28, 'b')}));
  auto back = *Serializer::Deserialize<std::vector<ray::ObjectRef<int>>>(frame);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[1].ID(), std::string(28, 'b'));
}

}  // namespace
