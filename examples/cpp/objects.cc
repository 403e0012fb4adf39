// Objects from C++: put a value, get one and many refs (one request), get with a timeout,
// wait for the ready ones. Built from the C++ snippets of Ray's "Objects" guide.
//
// Build it against the installed library (`scripts/cpp.sh build` installs it), with the paths
// `ray cpp --show-library-path` prints, either with plain g++:
//   INC=... LIB=...   # "Ray C++ include path" and "Ray C++ library path"
//   g++ -std=c++17 -I$INC examples/cpp/objects.cc -L$LIB -lray_api -o objects
//   LD_LIBRARY_PATH=$LIB ./objects
// or with examples/cpp/CMakeLists.txt:
//   cmake -S examples/cpp -B /tmp/ray-examples -DRAY_CLI=.venv/bin/ray
//   cmake --build /tmp/ray-examples && /tmp/ray-examples/objects
// With no address ray::Init() starts a local cluster and ray::Shutdown() stops it; with
// --ray_address=HOST:PORT (or RAY_ADDRESS) it joins a cluster started with `ray start --head`
// on this machine (the token is found by the address). It checks its own results and exits 0.

#include <ray/api.h>

#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#define CHECK(condition)                                                 \
  do {                                                                   \
    if (!(condition)) {                                                  \
      std::cerr << "check failed: " #condition " (line " << __LINE__ << ")\n"; \
      std::exit(1);                                                      \
    }                                                                    \
  } while (0)

int main(int argc, char **argv) {
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  CHECK(ray::IsInitialized());

  // Put an object in Ray's object store.
  int y = 1;
  ray::ObjectRef<int> object_ref = ray::Put(y);
  CHECK(*object_ref.Get() == 1);

  // Get the value of one object ref.
  ray::ObjectRef<int> obj_ref = ray::Put(1);
  CHECK(*obj_ref.Get() == 1);
  // You can also set a timeout (ms) to return early from a get that is blocking for too long.
  CHECK(*obj_ref.Get(1000) == 1);

  // Get the values of multiple object refs in parallel.
  std::vector<ray::ObjectRef<int>> obj_refs;
  for (int i = 0; i < 3; i++) {
    obj_refs.emplace_back(ray::Put(i));
  }
  auto results = ray::Get(obj_refs);
  CHECK(results.size() == 3);
  CHECK(*results[0] == 0);
  CHECK(*results[1] == 1);
  CHECK(*results[2] == 2);

  // Values cross languages: strings, large integers, lists and maps are XLANG values.
  std::map<std::string, std::vector<int64_t>> table = {{"big", {int64_t{1} << 40, -7}}};
  CHECK(*ray::Get(ray::Put(table)) == table);

  // ray::Get throws a RayTimeoutException if it times out (a Python task that sleeps 10 s).
  auto slow = ray::Task(ray::PyFunction<int>{"time", "sleep"}).Remote(10);
  bool timed_out = false;
  try {
    ray::Get(slow, 300);
  } catch (const ray::internal::RayTimeoutException &e) {
    timed_out = true;
  }
  CHECK(timed_out);

  // Wait returns the refs that are ready and those that are not.
  std::vector<ray::ObjectRef<int>> mixed = {slow, obj_ref};
  ray::WaitResult<int> waited = ray::Wait(mixed, 1, 5000);
  CHECK(waited.ready.size() == 1);
  CHECK(waited.ready.front().ID() == obj_ref.ID());
  CHECK(waited.unready.size() == 1);

  ray::Shutdown();
  CHECK(!ray::IsInitialized());
  std::cout << "objects example: ok\n";
  return 0;
}
