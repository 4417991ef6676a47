#pragma once

#include <memory>
#include <optional>
#include <string_view>

struct pg_result;

namespace pgv::pg {

// An owned PGresult: immutable once received, so it may be read from any thread.
class Result {
 public:
  Result() = default;
  explicit Result(pg_result* raw) noexcept : result_(raw) {}

  explicit operator bool() const noexcept { return result_ != nullptr; }
  int rows() const noexcept;
  int columns() const noexcept;
  // -1 when there is no such column.
  int column(std::string_view name) const noexcept;
  bool is_null(int row, int col) const noexcept;
  // Empty for NULL; valid as long as this Result lives.
  std::string_view get(int row, int col) const noexcept;
  // The value as an int; 0 for NULL or text that is not a number.
  int get_int(int row, int col) const noexcept;
  // A numeric column, empty when it is NULL (a value the server could not give).
  std::optional<double> get_optional_double(int row, int col) const;
  pg_result* raw() const noexcept { return result_.get(); }

 private:
  struct Deleter {
    void operator()(pg_result* r) const noexcept;
  };
  std::unique_ptr<pg_result, Deleter> result_;
};

}  // namespace pgv::pg
