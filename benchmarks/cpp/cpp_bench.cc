// Microbenchmarks of the Ray C++ API: small put, small get, Python task round trip, 1,000
// pipelined Python tasks, C++ task round trip, 1,000 pipelined C++ tasks.
//
// The same source builds against this project's headers and against upstream Ray's
// (`pip install ray[cpp]`): only the public API both share is used. It is built twice, as the
// driver and (with -DRAY_BENCH_LIBRARY) as the shared library of its RAY_REMOTE functions,
// which the cluster's workers load from the code search path. benchmarks/cpp/run.sh builds
// and runs it; by hand:
//
//   cpp_bench --ray_address=HOST:PORT --ray_code_search_path=LIBDIR:PYDIR [--trials=5]
//             [--trial_seconds=1] [--label=NAME]
//
// Throughputs are the median of the trials (each a fixed time after one warm-up call). Progress
// lines go to stderr; stdout ends with one JSON object of every result (gateway_bench.py's
// shape: name -> unit, better, value, trials).

#include <ray/api.h>

int Plus(int a, int b) { return a + b; }
RAY_REMOTE(Plus);

#ifndef RAY_BENCH_LIBRARY

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  size_t n = values.size();
  return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

// Calls per second of `fn`, run for `seconds` after one warm-up call.
double Rate(const std::function<void()> &fn, double seconds) {
  fn();
  int64_t n = 0;
  auto start = Clock::now();
  while (true) {
    fn();
    ++n;
    double elapsed = Seconds(start);
    if (elapsed >= seconds) return n / elapsed;
  }
}

struct Result {
  std::string name;
  std::string unit;
  double value;
  std::vector<double> trials;
  int64_t wrong_values = 0;  // pipelined rows: results that were not 1 + 1
};

std::string Format(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), v >= 100 ? "%.0f" : "%.3g", v);
  return buffer;
}

std::string Json(const std::vector<Result> &results, const std::string &label) {
  std::ostringstream out;
  out.precision(10);
  out << "{\"api\": \"" << label << "\", \"results\": {";
  for (size_t i = 0; i < results.size(); ++i) {
    const Result &r = results[i];
    out << (i ? ", " : "") << "\"" << r.name << "\": {\"unit\": \"" << r.unit
        << "\", \"better\": \"higher\", \"value\": " << r.value << ", \"trials\": [";
    for (size_t j = 0; j < r.trials.size(); ++j) out << (j ? ", " : "") << r.trials[j];
    out << "]";
    if (r.wrong_values > 0) out << ", \"wrong_values\": " << r.wrong_values;
    out << "}";
  }
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) load[0] = load[1] = load[2] = -1;
  out << "}, \"loadavg\": [" << load[0] << ", " << load[1] << ", " << load[2] << "]}";
  return out.str();
}

}  // namespace

int main(int argc, char **argv) {
  int trials = 5;
  double trial_seconds = 1.0;
  std::string label = "cpp";
  // Our options; the rest (--ray_*) go to ray::Init.
  std::vector<char *> ray_args;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--trials=", 0) == 0) {
      trials = std::stoi(arg.substr(9));
    } else if (arg.rfind("--trial_seconds=", 0) == 0) {
      trial_seconds = std::stod(arg.substr(16));
    } else if (arg.rfind("--label=", 0) == 0) {
      label = arg.substr(8);
    } else {
      ray_args.push_back(argv[i]);
    }
  }
  ray::RayConfig config;
  auto t0 = Clock::now();
  ray::Init(config, static_cast<int>(ray_args.size()), ray_args.data());
  std::cerr << "init: " << Format(Seconds(t0)) << " s" << std::endl;

  std::vector<Result> results;
  auto record = [&](const std::string &name, const std::string &unit,
                    const std::function<double()> &trial) {
    std::vector<double> values;
    for (int i = 0; i < trials; ++i) values.push_back(trial());
    results.push_back({name, unit, Median(values), values});
    std::fprintf(stderr, "%-34s %12s %s\n", name.c_str(), Format(results.back().value).c_str(),
                 unit.c_str());
  };

  ray::PyFunction<int> py_add{"bench_targets", "add"};
  ray::ObjectRef<int> held = ray::Put(0);
  // The calls return what they should.
  int py_sum = *ray::Task(py_add).Remote(2, 3).Get();
  int cpp_sum = *ray::Task(Plus).Remote(2, 3).Get();
  int got = *ray::Get(held);
  if (py_sum != 5 || cpp_sum != 5 || got != 0) {
    std::cerr << "wrong results: Python add(2, 3) = " << py_sum << ", C++ Plus(2, 3) = " << cpp_sum
              << ", Get(Put(0)) = " << got << std::endl;
    return 1;
  }

  record("cpp_put_small", "ops/s", [&] { return Rate([] { ray::Put(0); }, trial_seconds); });
  record("cpp_get_small", "ops/s",
         [&] { return Rate([&] { ray::Get(held); }, trial_seconds); });
  record("cpp_python_task_round_trip", "ops/s", [&] {
    return Rate([&] { ray::Task(py_add).Remote(1, 1).Get(); }, trial_seconds);
  });
  // Submit 1,000, then one ray::Get of all; values that are not 1 + 1 are counted (and
  // reported with the row) rather than hidden.
  int64_t wrong = 0;
  auto pipelined = [&wrong](const std::function<ray::ObjectRef<int>()> &submit) {
    return [submit, &wrong] {
      auto start = Clock::now();
      std::vector<ray::ObjectRef<int>> refs;
      refs.reserve(1000);
      for (int i = 0; i < 1000; ++i) refs.push_back(submit());
      auto values = ray::Get(refs);
      double elapsed = Seconds(start);
      for (const auto &v : values) wrong += *v != 2;
      wrong += static_cast<int64_t>(1000 - values.size());
      return 1000 / elapsed;
    };
  };
  auto python_1k = pipelined([&] { return ray::Task(py_add).Remote(1, 1); });
  python_1k();  // warm-up: workers leased
  wrong = 0;
  record("cpp_python_tasks_pipelined_1k", "tasks/s", python_1k);
  results.back().wrong_values = wrong;
  record("cpp_cpp_task_round_trip", "ops/s", [&] {
    return Rate([] { ray::Task(Plus).Remote(1, 1).Get(); }, trial_seconds);
  });
  auto cpp_1k = pipelined([] { return ray::Task(Plus).Remote(1, 1); });
  cpp_1k();
  wrong = 0;
  record("cpp_cpp_tasks_pipelined_1k", "tasks/s", cpp_1k);
  results.back().wrong_values = wrong;
  for (const auto &r : results) {
    if (r.wrong_values > 0) {
      std::cerr << "WRONG RESULTS: " << r.name << " got " << r.wrong_values
                << " values that were not 2 (over all its trials)" << std::endl;
    }
  }

  ray::Shutdown();
  std::cout << Json(results, label) << std::endl;
  return 0;
}

#endif  // RAY_BENCH_LIBRARY
