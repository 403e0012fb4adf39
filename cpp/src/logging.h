#pragma once

// A minimal stderr logger of the C++ runtime: RAY_CPP_LOG_LEVEL=debug|info|warning|error
// (default warning).

#include <sstream>
#include <string>

namespace ray {
namespace internal {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string &message);

class LogMessage {
 public:
  explicit LogMessage(LogLevel level) : level_(level) {}
  ~LogMessage() { LogLine(level_, stream_.str()); }
  std::ostringstream &stream() { return stream_; }

 private:
  LogLevel level_;
  std::ostringstream stream_;
};

}  // namespace internal
}  // namespace ray

#define RAY_CPP_LOG(level)                                                          \
  if (!::ray::internal::LogEnabled(::ray::internal::LogLevel::level)) {             \
  } else                                                                            \
    ::ray::internal::LogMessage(::ray::internal::LogLevel::level).stream()
