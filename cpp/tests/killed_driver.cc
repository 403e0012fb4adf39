// A C++ driver that started_cluster_test.cc kills with SIGKILL in the middle of its session.
//
//   killed_driver --ray_address=HOST:PORT --ray_code_search_path=LIB:PYDIR PID_FILE
//
// It puts objects (three of 2 MiB, in shared memory, and a small one), starts a C++ actor that
// puts and keeps a 1 MiB object of its own, starts a Python task that sleeps for 10 minutes
// (its worker writes its pid to PID_FILE), then prints "ready actor_pid <pid> task_pid <pid>"
// and waits to be killed.

#include <ray/api.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "cluster_functions.h"

int main(int argc, char **argv) {
  if (argc < 2) {
    std::cerr << "usage: killed_driver [--ray_* flags] PID_FILE" << std::endl;
    return 2;
  }
  const std::string pid_file = argv[argc - 1];
  ray::RayConfig config;
  ray::Init(config, argc, argv);
  std::vector<ray::ObjectRef<std::vector<uint8_t>>> refs;
  for (int i = 0; i < 3; ++i) {
    refs.push_back(ray::Put(std::vector<uint8_t>(2 << 20, static_cast<uint8_t>(i))));
  }
  ray::ObjectRef<int> small = ray::Put(42);
  auto counter = ray::Actor(Counter::FactoryCreate).Remote(0);
  int held = *counter.Task(&Counter::Hold).Remote(1 << 20).Get();
  int actor_pid = *counter.Task(&Counter::Pid).Remote().Get();
  auto pending = ray::Task(ray::PyFunction<int>{"cpp_check_mod", "record_pid_and_sleep"})
                     .Remote(pid_file, 600);
  // Everything is in place (the gets above waited for the cluster).
  if (held != 1 || *ray::Get(refs[2])->begin() != 2 || *small.Get() != 42) {
    std::cout << "unexpected values" << std::endl;
    return 1;
  }
  std::string task_pid;
  for (int i = 0; i < 600 && task_pid.empty(); ++i) {
    std::ifstream(pid_file) >> task_pid;
    if (task_pid.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::cout << "ready actor_pid " << actor_pid << " task_pid " << task_pid << std::endl;
  while (true) std::this_thread::sleep_for(std::chrono::seconds(1));
}
