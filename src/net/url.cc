#include "net/url.h"

namespace hardbase::net {

std::string AppendQuery(std::string_view url, std::string_view query) {
  std::string out(url);
  out += url.find('?') == std::string_view::npos ? '?' : '&';
  out += query;
  return out;
}

}  // namespace hardbase::net
