// RAY_REMOTE code the cluster tests run on real clusters (see cluster_functions.h): plain
// functions, functions that use the API themselves (nested tasks, puts, gets, refs returned
// inside values), a throwing function, and a C++ actor.

#include "cluster_functions.h"

#include <unistd.h>

#include <numeric>
#include <stdexcept>

int Plus(int a, int b) { return a + b; }

int64_t SumOf(std::vector<int64_t> values) {
  return std::accumulate(values.begin(), values.end(), int64_t{0});
}

std::string Describe(std::map<std::string, std::vector<int64_t>> table) {
  std::string out;
  for (const auto &[key, values] : table) {
    out += key + "=";
    for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + std::to_string(values[i]);
    out += ";";
  }
  return out;
}

// A task submitting a task (RAY_REMOTE to RAY_REMOTE) and waiting for it.
int NestedPlus(int a, int b) { return *ray::Task(Plus).Remote(a, b).Get() * 10; }

// A C++ task calling Python (the job's code search path names the module).
int64_t NestedPython(int64_t a, int64_t b) {
  return *ray::Task(ray::PyFunction<int64_t>{"cpp_check_mod", "add"}).Remote(a, b).Get();
}

int PutThenGet(int x) {
  ray::ObjectRef<int> ref = ray::Put(x * 3);
  return *ray::Get(ref) + 1;
}

// Refs made on the cluster, returned inside the value: they outlive this call.
std::vector<ray::ObjectRef<int>> MakeRefs(int n) {
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(ray::Put(100 + i));
  return refs;
}

// Refs of tasks still running when the call returns.
std::vector<ray::ObjectRef<int>> MakeTaskRefs(int n) {
  std::vector<ray::ObjectRef<int>> refs;
  for (int i = 0; i < n; ++i) refs.push_back(ray::Task(Plus).Remote(i, 1000));
  return refs;
}

int Fail(int x) { throw std::invalid_argument("bad input " + std::to_string(x)); }

int Pid() { return static_cast<int>(::getpid()); }

std::vector<uint8_t> Blob(int size) {
  std::vector<uint8_t> out(static_cast<size_t>(size));
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<uint8_t>(i * 7);
  return out;
}

Counter *Counter::FailingCreate(int start) {
  throw std::runtime_error("no counter from " + std::to_string(start));
}

int Counter::Pid() const { return static_cast<int>(::getpid()); }

int Counter::AddViaTask(int x) {
  value_ = *ray::Task(Plus).Remote(value_, x).Get();
  return value_;
}

// Keeps an object of `size` bytes that this actor put (owned by the actor's worker).
int Counter::Hold(int size) {
  held_.push_back(ray::Put(Blob(size)));
  return static_cast<int>(held_.size());
}

int Counter::Fail(int x) { throw std::out_of_range("counter cannot take " + std::to_string(x)); }

int Counter::Stop() {
  ray::ExitActor();
  return value_;
}

RAY_REMOTE(Plus, SumOf, Describe, NestedPlus, NestedPython, PutThenGet, MakeRefs, MakeTaskRefs,
           Fail, Pid, Blob);
RAY_REMOTE(Counter::FactoryCreate, Counter::FailingCreate, &Counter::Add, &Counter::Get,
           &Counter::Pid, &Counter::AddViaTask, &Counter::Hold, &Counter::Fail, &Counter::Stop);
