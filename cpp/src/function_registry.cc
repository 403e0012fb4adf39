// The process-wide registry of RAY_REMOTE entries (ray/api/function_manager.h).

#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ray/api/function_manager.h"

namespace ray {
namespace internal {

struct FunctionRegistry::Impl {
  mutable std::mutex mu;
  // (module, name) -> entry. Map nodes never move, so entry pointers stay valid.
  std::map<std::pair<const void *, std::string>, RemoteEntry> entries;
  std::unordered_map<std::string, std::string> name_by_key;
  // (module, name) -> the key registered under it.
  std::map<std::pair<const void *, std::string>, std::string> key_by_slot;
  std::map<const void *, std::vector<std::string>> errors;
};

FunctionRegistry &FunctionRegistry::Instance() {
  static auto *registry = new FunctionRegistry();  // never destroyed: used until exit
  return *registry;
}

FunctionRegistry::Impl &FunctionRegistry::impl() const {
  static auto *impl = new Impl();
  return *impl;
}

namespace {
const char *KindName(RemoteKind kind) {
  switch (kind) {
    case RemoteKind::kFunction:
      return "function";
    case RemoteKind::kFactory:
      return "factory";
    case RemoteKind::kMethod:
      return "method";
  }
  return "?";
}
}  // namespace

void FunctionRegistry::Register(RemoteEntry entry, std::string key) {
  Impl &d = impl();
  std::lock_guard<std::mutex> lock(d.mu);
  auto slot = std::make_pair(entry.module, entry.name);
  if (d.entries.count(slot)) {
    // The same function again (RAY_REMOTE in a header included by several files): a no-op.
    if (d.key_by_slot[slot] != key) {
      d.errors[entry.module].push_back("the RAY_REMOTE name '" + entry.name +
                                       "' names two different functions in one program or "
                                       "library");
    }
    return;
  }
  d.key_by_slot[slot] = key;
  std::string name = entry.name;
  d.entries.emplace(std::move(slot), std::move(entry));
  d.name_by_key.emplace(std::move(key), std::move(name));
}

std::string FunctionRegistry::NameOf(const std::string &key) const {
  Impl &d = impl();
  std::lock_guard<std::mutex> lock(d.mu);
  auto it = d.name_by_key.find(key);
  return it == d.name_by_key.end() ? "" : it->second;
}

const RemoteEntry *FunctionRegistry::Find(const void *module, RemoteKind kind,
                                          const std::string &name) const {
  Impl &d = impl();
  std::lock_guard<std::mutex> lock(d.mu);
  auto it = d.entries.find(std::make_pair(module, name));
  if (it != d.entries.end()) {
    return it->second.kind == kind ? &it->second : nullptr;
  }
  const RemoteEntry *found = nullptr;
  for (const auto &[slot, entry] : d.entries) {
    if (slot.second == name && entry.kind == kind) {
      if (found != nullptr) return nullptr;  // ambiguous across modules
      found = &entry;
    }
  }
  return found;
}

std::vector<std::string> FunctionRegistry::List(const void *module) const {
  Impl &d = impl();
  std::lock_guard<std::mutex> lock(d.mu);
  std::vector<std::string> lines;
  for (const auto &[slot, entry] : d.entries) {
    if (slot.first == module) {
      lines.push_back(std::string(KindName(entry.kind)) + "\t" + entry.name + "\t" +
                      entry.class_name);
    }
  }
  return lines;
}

std::vector<std::string> FunctionRegistry::Errors(const void *module) const {
  Impl &d = impl();
  std::lock_guard<std::mutex> lock(d.mu);
  std::vector<std::string> out;
  for (const auto &[m, errors] : d.errors) {
    if (module == nullptr || m == module) out.insert(out.end(), errors.begin(), errors.end());
  }
  return out;
}

void FunctionRegistry::AddError(const void *module, std::string error) {
  Impl &d = impl();
  std::lock_guard<std::mutex> lock(d.mu);
  d.errors[module].push_back(std::move(error));
}

std::vector<std::string> SplitRemoteNames(std::string_view text) {
  std::vector<std::string> names;
  std::string current;
  int depth = 0;
  auto flush = [&]() {
    size_t b = current.find_first_not_of(" \t\n");
    size_t e = current.find_last_not_of(" \t\n");
    if (b != std::string::npos) names.push_back(current.substr(b, e - b + 1));
    current.clear();
  };
  for (char c : text) {
    if (c == '(' || c == '<' || c == '[') ++depth;
    if (c == ')' || c == '>' || c == ']') --depth;
    if (c == ',' && depth == 0) {
      flush();
    } else {
      current.push_back(c);
    }
  }
  flush();
  return names;
}

}  // namespace internal
}  // namespace ray
