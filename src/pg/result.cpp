#include "pg/result.hpp"

#include <libpq-fe.h>

#include <charconv>
#include <string>

namespace pgv::pg {

void Result::Deleter::operator()(pg_result* r) const noexcept {
  PQclear(r);
}

int Result::rows() const noexcept {
  return result_ ? PQntuples(result_.get()) : 0;
}
int Result::columns() const noexcept {
  return result_ ? PQnfields(result_.get()) : 0;
}

int Result::column(std::string_view name) const noexcept {
  if (!result_) return -1;
  for (int i = 0; i < PQnfields(result_.get()); ++i) {
    if (name == PQfname(result_.get(), i)) return i;
  }
  return -1;
}

bool Result::is_null(int row, int col) const noexcept {
  return !result_ || PQgetisnull(result_.get(), row, col) != 0;
}

std::string_view Result::get(int row, int col) const noexcept {
  if (is_null(row, col)) return {};
  return {PQgetvalue(result_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

int Result::get_int(int row, int col) const noexcept {
  const std::string_view text = get(row, col);
  int value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<double> Result::get_optional_double(int row, int col) const {
  if (is_null(row, col)) return std::nullopt;
  return std::stod(std::string(get(row, col)));
}

}  // namespace pgv::pg
