#include "wire/name.hpp"

#include "wire/types.hpp"

namespace discodns::wire {

std::optional<std::string> text_to_wire(std::string_view text) {
  std::string out;
  if (text == "." || text.empty()) return std::string(1, '\0');
  std::string label;
  auto flush = [&]() -> bool {
    if (label.empty() || label.size() > kMaxLabelLength) return false;
    out.push_back(static_cast<char>(label.size()));
    out += label;
    label.clear();
    return true;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\\') {
      if (i + 1 >= text.size()) return std::nullopt;
      char next = text[i + 1];
      if (next >= '0' && next <= '9') {
        if (i + 3 >= text.size()) return std::nullopt;
        int value = 0;
        for (int k = 1; k <= 3; ++k) {
          char d = text[i + k];
          if (d < '0' || d > '9') return std::nullopt;
          value = value * 10 + (d - '0');
        }
        if (value > 255) return std::nullopt;
        label.push_back(ascii_lower(static_cast<char>(value)));
        i += 3;
      } else {
        label.push_back(ascii_lower(next));
        i += 1;
      }
    } else if (c == '.') {
      if (!flush()) return std::nullopt;
      if (i + 1 == text.size()) break;  // final dot
    } else {
      label.push_back(ascii_lower(c));
    }
  }
  if (!label.empty() && !flush()) return std::nullopt;
  out.push_back('\0');
  if (out.size() > kMaxNameLength) return std::nullopt;
  return out;
}

std::string wire_to_text(std::string_view wire) {
  std::string out;
  std::size_t i = 0;
  while (i < wire.size()) {
    auto len = static_cast<unsigned char>(wire[i]);
    if (len == 0) break;
    for (std::size_t k = 1; k <= len && i + k < wire.size(); ++k) {
      auto c = static_cast<unsigned char>(wire[i + k]);
      if (c == '.' || c == '\\') {
        out.push_back('\\');
        out.push_back(static_cast<char>(c));
      } else if (c < 0x21 || c > 0x7e) {
        char buf[5];
        buf[0] = '\\';
        buf[1] = static_cast<char>('0' + c / 100);
        buf[2] = static_cast<char>('0' + (c / 10) % 10);
        buf[3] = static_cast<char>('0' + c % 10);
        buf[4] = 0;
        out += buf;
      } else {
        out.push_back(static_cast<char>(c));
      }
    }
    out.push_back('.');
    i += len + 1;
  }
  if (out.empty()) out.push_back('.');
  return out;
}

std::string wire_label(std::string_view label) {
  std::string out;
  out.push_back(static_cast<char>(label.size()));
  out += label;
  return out;
}

bool is_at_or_below(std::string_view name, std::string_view ancestor) {
  if (ancestor.size() > name.size()) return false;
  std::size_t i = 0;
  // Walk label boundaries of `name` until the remaining suffix has the ancestor's length.
  while (name.size() - i > ancestor.size()) {
    i += static_cast<unsigned char>(name[i]) + 1;
  }
  return name.size() - i == ancestor.size() && name.substr(i) == ancestor;
}

int label_count(std::string_view wire) {
  int n = 0;
  std::size_t i = 0;
  while (i < wire.size() && wire[i] != 0) {
    i += static_cast<unsigned char>(wire[i]) + 1;
    ++n;
  }
  return n;
}

std::string_view parent_of(std::string_view wire) {
  if (wire.empty() || wire[0] == 0) return wire;
  return wire.substr(static_cast<unsigned char>(wire[0]) + 1);
}

}  // namespace discodns::wire
