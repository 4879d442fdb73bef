#include "sign/signed_json.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "base/json_limits.h"

namespace hardbase::sign {
namespace {

// Walks the document once, remembering the folded member names of each open object.
class DuplicateFinder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit DuplicateFinder(std::string_view free_form) : free_form_(free_form) {}

  // The first pair of members found that Go takes for one, described; empty while none is.
  const std::string& duplicate() const { return problem_; }

  bool null() override { return Value(); }
  bool boolean(bool) override { return Value(); }
  bool number_integer(number_integer_t) override { return Value(); }
  bool number_unsigned(number_unsigned_t) override { return Value(); }
  bool number_float(number_float_t, const string_t&) override { return Value(); }
  bool string(string_t&) override { return Value(); }
  bool binary(binary_t&) override { return Value(); }
  bool start_object(std::size_t) override { return Open(true); }
  bool end_object() override { return Close(); }
  bool start_array(std::size_t) override { return Open(false); }
  bool end_array() override { return Close(); }

  bool key(string_t& name) override {
    Frame& object = open_.back();
    bool exact = !free_form_.empty() && (object.path == free_form_ ||
                                         object.path.starts_with(std::string(free_form_) + ".") ||
                                         object.path.starts_with(std::string(free_form_) + "["));
    if (!object.names.insert(exact ? name : FoldJsonName(name)).second) {
      problem_ = fmt::format(
          "duplicate member {} {} (Go reads member names "
          "case-insensitively and takes the last)",
          JsonQuoted(name), object.path.empty() ? "at the top level" : "in " + object.path);
      return false;
    }
    key_ = name;
    return true;
  }

  // Invalid JSON is for the caller's parser to report, in the caller's words.
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    return false;
  }

 private:
  struct Frame {
    bool object;
    std::string path;  // "critical.image", "subject[]"; empty for the document itself
    std::set<std::string> names;
  };

  bool Value() { return true; }

  bool Open(bool object) {
    std::string path;
    if (!open_.empty()) {
      const Frame& parent = open_.back();
      path = parent.object ? (parent.path.empty() ? key_ : parent.path + "." + key_)
                           : parent.path + "[]";
    }
    open_.push_back({object, std::move(path), {}});
    return true;
  }

  bool Close() {
    open_.pop_back();
    return true;
  }

  std::string_view free_form_;
  std::vector<Frame> open_;
  std::string key_;
  std::string problem_;
};

}  // namespace

std::string FoldJsonName(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(name[i]);
    if (c >= 'a' && c <= 'z') {
      out += static_cast<char>(c - 'a' + 'A');
      continue;
    }
    // The UTF-8 of U+017F, U+0130, U+0131 and U+212A, which Go folds onto S, I, I and K.
    std::string_view rest = name.substr(i);
    if (rest.starts_with("\xC5\xBF")) {
      out += 'S';
      ++i;
    } else if (rest.starts_with("\xC4\xB0") || rest.starts_with("\xC4\xB1")) {
      out += 'I';
      ++i;
    } else if (rest.starts_with("\xE2\x84\xAA")) {
      out += 'K';
      i += 2;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string JsonQuoted(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> CheckSignedJson(std::string_view text, ErrorCode code, std::string_view what,
                             std::string_view free_form) {
  if (auto bounded = CheckUntrustedJson(text, what); !bounded) {
    return Fail(code, bounded.error().message);
  }
  DuplicateFinder finder(free_form);
  nlohmann::json::sax_parse(text, &finder, nlohmann::json::input_format_t::json,
                            /*strict=*/true);
  if (finder.duplicate().empty()) return {};
  return Fail(code, fmt::format("{}: {}", what, finder.duplicate()));
}

}  // namespace hardbase::sign
