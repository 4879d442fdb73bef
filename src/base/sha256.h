// SHA-256 over bytes and files (OpenSSL EVP), as lowercase hex.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace hardbase {

// Incremental hasher for data that arrives in pieces (downloads, tar streams).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::string_view data);
  // Finishes the hash and returns it as 64 lowercase hex digits; the hasher is then reset.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(std::string_view data);
Result<std::string> Sha256File(const std::string& path);

// `bytes` as lowercase hex, two digits a byte.
std::string ToHex(std::string_view bytes);

// True for exactly 64 lowercase hex digits.
bool IsSha256Hex(std::string_view s);

}  // namespace hardbase
