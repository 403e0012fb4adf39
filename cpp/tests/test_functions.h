#pragma once

// Types shared by the test library (test_functions*.cc) and the tests that call it.

#include <ray/api.h>

#include <string>

namespace test_types {

struct Point {
  int x = 0;
  int y = 0;
  std::string label;
  MSGPACK_DEFINE(x, y, label);
};

}  // namespace test_types
