#pragma once

/// \file
/// Turns the arguments of `Remote(...)` into task arguments.
///
/// - An `ObjectRef<T>` given for a parameter of type T (or to a cross-language call) is passed
///   by reference: the executor fetches the object and passes its value.
/// - An `ObjectRef<T>` given for a parameter of type `ObjectRef<T>` is passed as a value (the
///   ref itself), and the executor becomes a borrower of the object.
/// - Anything else is converted to the parameter's type and serialized (serializer.h); for a
///   cross-language call it must be a cross-language value.
/// The runtime puts large values into the object store and passes them by reference.

#include <ray/api/common_types.h>
#include <ray/api/object_ref.h>
#include <ray/api/serializer.h>
#include <ray/api/type_traits.h>
#include <ray/api/xlang_function.h>

#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ray {
namespace internal {

class Arguments {
 public:
  /// Appends one TaskArg per argument to *task_args.
  /// \param OriginArgsTuple The callee's parameter types (decayed); for a cross-language call
  /// (`kCrossLang`) the argument types.
  template <typename OriginArgsTuple, bool kCrossLang = false, size_t... I,
            typename... InputArgTypes>
  static void WrapArgs(LangType lang_type, std::vector<TaskArg> *task_args,
                       std::index_sequence<I...>, InputArgTypes &&...args) {
    (WrapArg<kCrossLang, std::tuple_element_t<I, OriginArgsTuple>>(
         task_args, std::forward<InputArgTypes>(args)),
     ...);
    (void)task_args;
    (void)lang_type;
  }

 private:
  template <bool kCrossLang, typename Param, typename Input>
  static void WrapArg(std::vector<TaskArg> *task_args, Input &&arg) {
    using P = std::decay_t<Param>;
    using A = std::decay_t<Input>;
    TaskArg task_arg;
    if constexpr (is_object_ref_v<A> && (kCrossLang || !is_object_ref_v<P>)) {
      task_arg.object_id = arg.ID();  // by reference: the executor passes the value
    } else if constexpr (is_object_ref_v<A>) {
      task_arg.frame = Serializer::Serialize(arg, &task_arg.nested_ids);  // the ref itself
    } else if constexpr (std::is_same_v<A, const char *> || std::is_same_v<A, char *>) {
      task_arg.frame = Serializer::Serialize(std::string(arg), &task_arg.nested_ids);
    } else if constexpr (kCrossLang) {
      static_assert(is_xlang_v<A>,
                    "arguments of Python and Java calls must be cross-language values: bool, "
                    "integers, double, std::string, std::vector<uint8_t> (bytes), and "
                    "std::vector / std::map of those");
      task_arg.frame = Serializer::Serialize(arg, &task_arg.nested_ids);
    } else {
      task_arg.frame =
          Serializer::Serialize(static_cast<P>(std::forward<Input>(arg)), &task_arg.nested_ids);
    }
    task_args->push_back(std::move(task_arg));
  }
};

}  // namespace internal
}  // namespace ray
