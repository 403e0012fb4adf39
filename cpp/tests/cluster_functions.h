#pragma once

// RAY_REMOTE functions and a C++ actor that run on a real cluster (cluster_functions.cc).
// The same source is compiled into the test drivers (which name the functions) and into
// libray_cluster_functions.so, which the Python workers load from the code search path.

#include <ray/api.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

int Plus(int a, int b);
int64_t SumOf(std::vector<int64_t> values);
std::string Describe(std::map<std::string, std::vector<int64_t>> table);
int NestedPlus(int a, int b);
int64_t NestedPython(int64_t a, int64_t b);
int PutThenGet(int x);
std::vector<ray::ObjectRef<int>> MakeRefs(int n);
std::vector<ray::ObjectRef<int>> MakeTaskRefs(int n);
int Fail(int x);
int Pid();
std::vector<uint8_t> Blob(int size);

class Counter {
 public:
  explicit Counter(int start) : value_(start) {}
  static Counter *FactoryCreate(int start) { return new Counter(start); }
  static Counter *FailingCreate(int start);
  int Add(int x) {
    value_ += x;
    return value_;
  }
  int Get() const { return value_; }
  int Pid() const;
  int AddViaTask(int x);
  int Hold(int size);
  int Fail(int x);
  int Stop();

 private:
  int value_;
  std::vector<ray::ObjectRef<std::vector<uint8_t>>> held_;
};
