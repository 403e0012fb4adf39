// A C++ driver that started_cluster_test.cc runs against its cluster, to show the ways a
// program joins one:
//
//   joining_driver init            ray::Init(): the address comes from RAY_ADDRESS
//   joining_driver flags ARGS...   ray::Init(config, argc, argv): upstream's flags
//                                  (--ray_address, --ray_code_search_path, --ray_job_namespace,
//                                  --ray_node_ip_address) among flags of the program's own
//
// Both find the C++ actor the test named "shared_counter" in namespace "cpp_shared_ns": `init`
// by that namespace (its own is a fresh one, where the name is unknown), `flags` in its job's
// namespace. Each prints "key value" lines that the test checks, then "done".

#include <ray/api.h>

#include <iostream>
#include <string>
#include <vector>

#include "cluster_functions.h"

namespace {

void Print(const std::string &key, const std::string &value) {
  std::cout << key << " " << value << std::endl;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: joining_driver init | joining_driver flags [flags...]" << std::endl;
    return 2;
  }
  const std::string mode = argv[1];
  if (mode == "init") {
    ray::Init();
  } else if (mode == "flags") {
    ray::RayConfig config;
    ray::Init(config, argc, argv);
    // Flags that are not Ray's stay where they were, for the program.
    std::string rest;
    for (int i = 2; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg.rfind("--ray_", 0) == 0) {
        if (arg.find('=') == std::string::npos) ++i;  // "--ray_x VALUE"
        continue;
      }
      rest += (rest.empty() ? "" : " ") + arg;
    }
    Print("argc", std::to_string(argc));
    Print("own_args", rest);
  } else {
    std::cerr << "unknown mode " << mode << std::endl;
    return 2;
  }
  Print("initialized", ray::IsInitialized() ? "yes" : "no");
  Print("put_get", std::to_string(*ray::Get(ray::Put(int64_t{1} << 40))));
  // A Python function of the standard library (no code search path needed).
  Print("python", std::to_string(
                      *ray::Task(ray::PyFunction<int64_t>{"operator", "add"}).Remote(40, 2).Get(60000)));
  Print("in_own_namespace", ray::GetActor<Counter>("shared_counter") ? "found" : "none");
  auto shared = ray::GetActor<Counter>("shared_counter", "cpp_shared_ns");
  Print("in_cpp_shared_ns", shared ? "found" : "none");
  if (mode == "init") {
    if (shared) Print("counter", std::to_string(*shared->Task(&Counter::Get).Remote().Get(60000)));
  } else {
    auto mine = ray::GetActor<Counter>("shared_counter");
    if (mine) Print("counter", std::to_string(*mine->Task(&Counter::Add).Remote(5).Get(60000)));
    // Its own C++ code, from the code search path it named.
    Print("cpp", std::to_string(*ray::Task(Plus).Remote(2, 3).Get(60000)));
    Print("python_module", std::to_string(*ray::Task(ray::PyFunction<int64_t>{"cpp_check_mod", "add"})
                                               .Remote(7, 8)
                                               .Get(60000)));
  }
  ray::Shutdown();
  Print("done", ray::IsInitialized() ? "still initialized" : "shut down");
  return 0;
}
