#pragma once

/// \file
/// Cross-language descriptors: call Python (and Java) functions and actors by name.
///
/// \code
///   auto ref = ray::Task(ray::PyFunction<int>{"my_module", "add"}).Remote(1, 2);
///   ray::ActorHandleXlang counter = ray::Actor(ray::PyActorClass{"my_module", "Counter"}).Remote();
///   auto value = counter.Task(ray::PyActorMethod<int>{"increment"}).Remote();
/// \endcode
/// Arguments and return values cross languages as XLANG values: bool, integers, double,
/// std::string, bytes (std::vector<uint8_t>), std::vector and std::map of those.

#include <string>

namespace ray {

/// A Python function, by module and name; `R` is the type its return value is read as.
template <typename R>
struct PyFunction {
  bool IsPython() { return true; }
  R operator()() { return {}; }

  std::string module_name;
  std::string function_name;
};

/// A Python actor class, by module and class name.
struct PyActorClass {
  bool IsPython() { return true; }
  void operator()() {}

  std::string module_name;
  std::string class_name;
  std::string function_name = "__init__";
};

/// A method of a Python actor, by name; `R` is the type its return value is read as.
template <typename R>
struct PyActorMethod {
  bool IsPython() { return true; }
  R operator()() { return {}; }

  std::string function_name;
};

/// A static Java method, by fully qualified class name and method name.
template <typename R>
struct JavaFunction {
  bool IsJava() { return true; }
  R operator()() { return {}; }

  std::string class_name;
  std::string function_name;
};

/// A Java actor class, by fully qualified class name.
struct JavaActorClass {
  bool IsJava() { return true; }
  void operator()() {}

  std::string class_name;
  std::string module_name = "";
  std::string function_name = "<init>";
};

/// A method of a Java actor, by name.
template <typename R>
struct JavaActorMethod {
  bool IsJava() { return true; }
  R operator()() { return {}; }

  std::string function_name;
};

namespace internal {

/// The language of a function or actor.
enum class LangType {
  CPP,
  PYTHON,
  JAVA,
};

}  // namespace internal
}  // namespace ray
