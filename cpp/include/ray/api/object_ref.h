#pragma once

/// \file
/// `ray::ObjectRef<T>`: a reference to an immutable object in the cluster.
///
/// Reference counting: each ObjectRef that holds an id counts as one holder in the client's
/// session (the runtime batches the counts to the gateway's AddReferences/ReleaseReferences).
/// A copy adds a holder; a move hands its holder over and leaves the source empty, so a
/// moved-from ref releases nothing; destruction releases. `ray::Put` and `Remote()` return
/// refs that adopt the reference the cluster made for them.

#include <ray/api/ray_runtime_holder.h>
#include <ray/api/serializer.h>
#include <ray/api/type_traits.h>

#include <memory>
#include <msgpack.hpp>
#include <string>
#include <utility>

namespace ray {
namespace internal {

/// Tag: the new ObjectRef takes over a reference the runtime already counted.
struct AdoptReference {};

/// The id and reference count shared by every ObjectRef<T>.
class ObjectRefHolder {
 public:
  ObjectRefHolder() = default;
  explicit ObjectRefHolder(const std::string &id) : id_(id) { Add(id_); }
  ObjectRefHolder(std::string id, AdoptReference) : id_(std::move(id)) {}
  ObjectRefHolder(const ObjectRefHolder &other) : id_(other.id_) { Add(id_); }
  ObjectRefHolder(ObjectRefHolder &&other) noexcept : id_(std::move(other.id_)) {
    other.id_.clear();
  }
  ObjectRefHolder &operator=(const ObjectRefHolder &other) {
    if (this != &other && id_ != other.id_) {
      Add(other.id_);
      Release(id_);
      id_ = other.id_;
    }
    return *this;
  }
  ObjectRefHolder &operator=(ObjectRefHolder &&other) noexcept {
    if (this != &other) {
      Release(id_);
      id_ = std::move(other.id_);
      other.id_.clear();
    }
    return *this;
  }
  ~ObjectRefHolder() { Release(id_); }

  /// \return The binary object id (empty for a default-constructed or moved-from ref).
  const std::string &ID() const { return id_; }

 private:
  static void Add(const std::string &id) {
    if (id.empty()) return;
    if (auto runtime = GetRayRuntimeOrNull()) runtime->AddLocalReference(id);
  }
  static void Release(const std::string &id) noexcept {
    if (id.empty()) return;
    try {
      if (auto runtime = GetRayRuntimeOrNull()) runtime->RemoveLocalReference(id);
    } catch (...) {
      // Releasing never throws out of a destructor; the session frees everything at its end.
    }
  }

  std::string id_;
};

}  // namespace internal

/// A reference to an object of type T in the cluster.
/// \param T The type the object is read as.
template <typename T>
class ObjectRef {
 public:
  ObjectRef() = default;

  /// A new holder of the object `id` (counted in the session).
  ObjectRef(const std::string &id) : holder_(id) {}

  /// Takes over a reference the runtime already counted (Put and Remote use this).
  ObjectRef(std::string id, internal::AdoptReference tag) : holder_(std::move(id), tag) {}

  /// Marks the type for the API's templates.
  static bool IsObjectRef() { return true; }

  bool operator==(const ObjectRef<T> &object) const { return ID() == object.ID(); }
  bool operator!=(const ObjectRef<T> &object) const { return ID() != object.ID(); }

  /// \return The binary object id.
  const std::string &ID() const { return holder_.ID(); }

  /// Gets the object, waiting until it is ready.
  /// \return The value.
  /// \throws RayTaskException (and the other exceptions of ray_exception.h) for a failed
  /// object; RayException when the value cannot be read as T.
  std::shared_ptr<T> Get() const;

  /// Gets the object, waiting at most timeout_ms.
  /// \param[in] timeout_ms Milliseconds; negative waits as long as needed.
  /// \throws RayTimeoutException when the object is not ready in time.
  std::shared_ptr<T> Get(int timeout_ms) const;

 private:
  internal::ObjectRefHolder holder_;
};

/// A reference to the result of a function returning void.
template <>
class ObjectRef<void> {
 public:
  ObjectRef() = default;
  ObjectRef(const std::string &id) : holder_(id) {}
  ObjectRef(std::string id, internal::AdoptReference tag) : holder_(std::move(id), tag) {}
  static bool IsObjectRef() { return true; }
  bool operator==(const ObjectRef<void> &object) const { return ID() == object.ID(); }
  bool operator!=(const ObjectRef<void> &object) const { return ID() != object.ID(); }
  const std::string &ID() const { return holder_.ID(); }

  /// Waits until the task finished; throws its error if it failed.
  void Get() const { Get(-1); }

  /// Waits at most timeout_ms until the task finished; throws its error if it failed.
  void Get(int timeout_ms) const {
    auto frames = internal::GetRayRuntime()->Get({ID()}, timeout_ms);
    internal::Serializer::CheckNoError(frames.at(0));
  }

 private:
  internal::ObjectRefHolder holder_;
};

// ---- inline implementation ----

template <typename T>
std::shared_ptr<T> ObjectRef<T>::Get() const {
  return Get(-1);
}

template <typename T>
std::shared_ptr<T> ObjectRef<T>::Get(int timeout_ms) const {
  auto frames = internal::GetRayRuntime()->Get({ID()}, timeout_ms);
  return internal::Serializer::Deserialize<T>(frames.at(0));
}

}  // namespace ray

// An ObjectRef inside a C++ value travels as its binary id; serializing records the id as a
// contained reference, reading it back makes a new counted holder.
namespace msgpack {
MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS) {
  namespace adaptor {

  template <typename T>
  struct pack<ray::ObjectRef<T>> {
    template <typename Stream>
    msgpack::packer<Stream> &operator()(msgpack::packer<Stream> &o,
                                        const ray::ObjectRef<T> &ref) const {
      ray::internal::ContainedIdCollector::Record(ref.ID());
      o.pack_bin(static_cast<uint32_t>(ref.ID().size()));
      o.pack_bin_body(ref.ID().data(), static_cast<uint32_t>(ref.ID().size()));
      return o;
    }
  };

  template <typename T>
  struct convert<ray::ObjectRef<T>> {
    const msgpack::object &operator()(const msgpack::object &o, ray::ObjectRef<T> &ref) const {
      if (o.type == msgpack::type::BIN) {
        ref = ray::ObjectRef<T>(std::string(o.via.bin.ptr, o.via.bin.size));
      } else if (o.type == msgpack::type::STR) {
        ref = ray::ObjectRef<T>(std::string(o.via.str.ptr, o.via.str.size));
      } else {
        throw msgpack::type_error();
      }
      return o;
    }
  };

  }  // namespace adaptor
}  // MSGPACK_API_VERSION_NAMESPACE(MSGPACK_DEFAULT_API_NS)
}  // namespace msgpack
