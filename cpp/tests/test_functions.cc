// A user library as the Python worker would load it: RAY_REMOTE functions, a C++ actor, an
// actor with a base class, an overloaded function. Built as libray_test_functions.so and
// called only through its exported C entry point (entry_point_test.cc).

#include <stdexcept>
#include <string>
#include <vector>

#include "test_functions.h"

int Plus(int a, int b) { return a + b; }

std::string Greet(const std::string &name) { return "hello " + name; }

void Nothing() {}

int Fail(int x) { throw std::invalid_argument("bad input " + std::to_string(x)); }

int ThrowInt() { throw 42; }

test_types::Point Mirror(test_types::Point p) { return {p.y, p.x, p.label + "!"}; }

std::vector<int64_t> Doubled(std::vector<int64_t> values) {
  for (auto &v : values) v *= 2;
  return values;
}

// Refs made from synthetic ids (no runtime in the test process): their ids are "contained".
std::vector<ray::ObjectRef<int>> RefsOf(int n) {
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.emplace_back(std::string(28, static_cast<char>('a' + i)));
  return refs;
}

int Twice(int x) { return 2 * x; }
double Twice(double x) { return 2 * x; }

static int live_counters = 0;

class Counter {
 public:
  explicit Counter(int start) : value_(start) { ++live_counters; }
  ~Counter() { --live_counters; }
  static Counter *FactoryCreate(int start) { return new Counter(start); }
  static Counter *FailingCreate() { throw std::runtime_error("no counter today"); }
  int Add(int x) {
    value_ += x;
    return value_;
  }
  int Get() const { return value_; }
  int Stop() {
    ray::ExitActor();
    return value_;
  }

 private:
  int value_;
};

int LiveCounters() { return live_counters; }

class Base {
 public:
  virtual ~Base() = default;
  int BaseValue() { return 7 + extra_; }

 protected:
  int extra_ = 0;
};

class Other {
 public:
  virtual ~Other() = default;
  int OtherValue() { return -1; }
};

class Derived : public Other, public Base {
 public:
  static Derived *Create() { return new Derived(); }
  Derived() { extra_ = 100; }
};

RAY_REMOTE(Plus, Greet, Nothing, Fail, ThrowInt, Mirror, Doubled, RefsOf, RAY_FUNC(Twice, int));
RAY_REMOTE(Counter::FactoryCreate, Counter::FailingCreate, &Counter::Add, &Counter::Get,
           &Counter::Stop, LiveCounters);
RAY_REMOTE(Derived::Create, &Base::BaseValue, &Other::OtherValue);
