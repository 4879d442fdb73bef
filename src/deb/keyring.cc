#include "deb/keyring.h"

#include <fmt/core.h>
#include <rnp/rnp.h>
#include <rnp/rnp_err.h>

#include <algorithm>
#include <map>

#include "base/fs.h"
#include "base/log.h"
#include "base/strings.h"

namespace hardbase::deb {
namespace {

// Owning handles for librnp objects, so that every path out of a function frees them.
struct InputDeleter {
  void operator()(rnp_input_st* p) const { rnp_input_destroy(p); }
};
struct OutputDeleter {
  void operator()(rnp_output_st* p) const { rnp_output_destroy(p); }
};
struct VerifyDeleter {
  void operator()(rnp_op_verify_st* p) const { rnp_op_verify_destroy(p); }
};
struct KeyDeleter {
  void operator()(rnp_key_handle_st* p) const { rnp_key_handle_destroy(p); }
};
struct SignatureDeleter {
  void operator()(rnp_signature_handle_st* p) const { rnp_signature_handle_destroy(p); }
};
struct IteratorDeleter {
  void operator()(rnp_identifier_iterator_st* p) const { rnp_identifier_iterator_destroy(p); }
};
using Input = std::unique_ptr<rnp_input_st, InputDeleter>;
using Output = std::unique_ptr<rnp_output_st, OutputDeleter>;
using VerifyOp = std::unique_ptr<rnp_op_verify_st, VerifyDeleter>;
using Key = std::unique_ptr<rnp_key_handle_st, KeyDeleter>;
using SignatureHandle = std::unique_ptr<rnp_signature_handle_st, SignatureDeleter>;
using Iterator = std::unique_ptr<rnp_identifier_iterator_st, IteratorDeleter>;

// Takes ownership of a string librnp allocated.
std::string TakeString(char* s) {
  std::string out = s ? s : "";
  rnp_buffer_destroy(s);
  return out;
}

std::string RnpError(rnp_result_t r) { return rnp_result_to_string(r); }

constexpr std::string_view kClearsignHeader = "-----BEGIN PGP SIGNED MESSAGE-----";

// Offset of the clear-signed header line, which must start a line and be alone on it.
std::string_view::size_type FindClearsignHeader(std::string_view text) {
  size_t pos = 0;
  while ((pos = text.find(kClearsignHeader, pos)) != std::string_view::npos) {
    size_t end = pos + kClearsignHeader.size();
    bool line_start = pos == 0 || text[pos - 1] == '\n';
    size_t eol = end;
    while (eol < text.size() && (text[eol] == ' ' || text[eol] == '\t' || text[eol] == '\r')) {
      ++eol;
    }
    bool line_end = eol == text.size() || text[eol] == '\n';
    if (line_start && line_end) return pos;
    pos = end;
  }
  return std::string_view::npos;
}

// Fingerprint of the primary key of `key` (itself when it is primary).
Result<std::string> PrimaryFingerprint(rnp_key_handle_t key) {
  bool is_sub = false;
  if (rnp_key_is_sub(key, &is_sub) != RNP_SUCCESS) {
    return Fail(ErrorCode::kInternal, "rnp: cannot inspect signing key");
  }
  char* fpr = nullptr;
  rnp_result_t r = is_sub ? rnp_key_get_primary_fprint(key, &fpr) : rnp_key_get_fprint(key, &fpr);
  if (r != RNP_SUCCESS || fpr == nullptr) {
    rnp_buffer_destroy(fpr);
    return Fail(ErrorCode::kInternal,
                fmt::format("rnp: no primary fingerprint for signing key: {}", RnpError(r)));
  }
  return TakeString(fpr);
}

// Issuer key id of a verified signature, "0x0123456789ABCDEF", or "of unknown issuer".
std::string IssuerOf(rnp_op_verify_signature_t sig) {
  rnp_signature_handle_t raw = nullptr;
  if (rnp_op_verify_signature_get_handle(sig, &raw) != RNP_SUCCESS || raw == nullptr) {
    return "(no issuer)";
  }
  SignatureHandle handle(raw);
  char* keyid = nullptr;
  if (rnp_signature_get_keyid(handle.get(), &keyid) != RNP_SUCCESS || keyid == nullptr) {
    rnp_buffer_destroy(keyid);
    return "(no issuer)";
  }
  return "0x" + TakeString(keyid);
}

std::string JoinComma(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) {
    if (!out.empty()) out += ", ";
    out += s;
  }
  return out;
}

// "1 signature by unknown key 0xA", "2 signatures by keys 0xA, 0xB do not match the text
// (tampered?)": one phrase per kind of failure.
std::string DescribeFailures(const std::map<rnp_result_t, std::vector<std::string>>& failures) {
  std::string out;
  for (const auto& [status, issuers] : failures) {
    bool many = issuers.size() > 1;
    std::string count = fmt::format("{} signature{}", issuers.size(), many ? "s" : "");
    std::string keys = fmt::format("key{} {}", many ? "s" : "", JoinComma(issuers));
    std::string phrase;
    switch (status) {
      case RNP_ERROR_KEY_NOT_FOUND:
        phrase = fmt::format("{} by unknown {}", count, keys);
        break;
      case RNP_ERROR_SIGNATURE_INVALID:
        phrase = fmt::format("{} by {} {} not match the text (tampered?)", count, keys,
                             many ? "do" : "does");
        break;
      case RNP_ERROR_SIGNATURE_EXPIRED:
        phrase = fmt::format("{} by {} expired", count, keys);
        break;
      default:
        phrase = fmt::format("{} by {}: {}", count, keys, RnpError(status));
        break;
    }
    if (!out.empty()) out += "; ";
    out += phrase;
  }
  return out;
}

}  // namespace

void Keyring::FfiDeleter::operator()(rnp_ffi_st* ffi) const { rnp_ffi_destroy(ffi); }

Keyring::Keyring(std::unique_ptr<rnp_ffi_st, FfiDeleter> ffi)
    : ffi_(std::move(ffi)), mu_(std::make_unique<std::mutex>()) {}
Keyring::Keyring(Keyring&&) noexcept = default;
Keyring& Keyring::operator=(Keyring&&) noexcept = default;
Keyring::~Keyring() = default;

Result<Keyring> Keyring::Create() {
  rnp_ffi_t ffi = nullptr;
  rnp_result_t r = rnp_ffi_create(&ffi, "GPG", "GPG");
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kInternal, fmt::format("rnp: cannot create context: {}", RnpError(r)));
  }
  return Keyring(std::unique_ptr<rnp_ffi_st, FfiDeleter>(ffi));
}

Result<Keyring> Keyring::FromFiles(const std::vector<std::string>& paths) {
  HB_TRY(Keyring keyring, Create());
  for (const std::string& path : paths) HB_TRY_VOID(keyring.AddFile(path));
  return keyring;
}

Result<void> Keyring::AddFile(const std::string& path) {
  HB_TRY(std::string data, ReadFile(path));
  // A GnuPG keybox ("gpg --keyring x.gpg --import" on a new file) has "KBXf" at offset 8.
  if (data.size() >= 12 && data.compare(8, 4, "KBXf") == 0) {
    return Fail(ErrorCode::kSpec,
                fmt::format("keyring {}: GnuPG keybox format is not supported (export the keys "
                            "with `gpg --export`)",
                            path));
  }
  return Import(data, path);
}

Result<void> Keyring::AddArmored(std::string_view armored, std::string_view what) {
  if (armored.find("-----BEGIN PGP PUBLIC KEY BLOCK-----") == std::string_view::npos) {
    return Fail(ErrorCode::kSpec, fmt::format("{}: not an armored OpenPGP public key block", what));
  }
  return Import(armored, std::string(what));
}

Result<void> Keyring::Import(std::string_view data, const std::string& source) {
  std::lock_guard<std::mutex> lock(*mu_);
  if (Trim(data).empty()) {
    return Fail(ErrorCode::kSpec, fmt::format("keyring {}: no public keys", source));
  }
  size_t after = 0;
  rnp_input_t raw_in = nullptr;
  rnp_result_t r = rnp_input_from_memory(&raw_in, reinterpret_cast<const uint8_t*>(data.data()),
                                         data.size(), false);
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kInternal, fmt::format("keyring {}: {}", source, RnpError(r)));
  }
  Input in(raw_in);
  char* results = nullptr;
  r = rnp_import_keys(ffi_.get(), in.get(), RNP_LOAD_SAVE_PUBLIC_KEYS, &results);
  rnp_buffer_destroy(results);
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kSpec, fmt::format("keyring {}: cannot read OpenPGP public keys: {}",
                                              source, RnpError(r)));
  }
  rnp_get_public_key_count(ffi_.get(), &after);
  if (after == 0) return Fail(ErrorCode::kSpec, fmt::format("keyring {}: no public keys", source));
  sources_.push_back(source);
  return {};
}

std::vector<std::string> Keyring::PrimaryFingerprints() const {
  std::lock_guard<std::mutex> lock(*mu_);
  std::vector<std::string> out;
  rnp_identifier_iterator_t raw_it = nullptr;
  if (rnp_identifier_iterator_create(ffi_.get(), &raw_it, "fingerprint") != RNP_SUCCESS) {
    return out;
  }
  Iterator it(raw_it);
  const char* fpr = nullptr;
  while (rnp_identifier_iterator_next(it.get(), &fpr) == RNP_SUCCESS && fpr != nullptr) {
    rnp_key_handle_t raw_key = nullptr;
    if (rnp_locate_key(ffi_.get(), "fingerprint", fpr, &raw_key) != RNP_SUCCESS || !raw_key) {
      continue;
    }
    Key key(raw_key);
    bool primary = false;
    if (rnp_key_is_primary(key.get(), &primary) == RNP_SUCCESS && primary) out.emplace_back(fpr);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<VerifiedText> VerifyClearsigned(const Keyring& keyring, std::string_view clearsigned,
                                       std::string_view what) {
  size_t start = FindClearsignHeader(clearsigned);
  if (start == std::string_view::npos) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("{}: not an OpenPGP clear-signed document", what));
  }
  std::string_view doc = clearsigned.substr(start);

  std::lock_guard<std::mutex> lock(*keyring.mu_);
  rnp_input_t raw_in = nullptr;
  rnp_result_t r = rnp_input_from_memory(&raw_in, reinterpret_cast<const uint8_t*>(doc.data()),
                                         doc.size(), false);
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kInternal, fmt::format("{}: rnp input: {}", what, RnpError(r)));
  }
  Input in(raw_in);
  rnp_output_t raw_out = nullptr;
  r = rnp_output_to_memory(&raw_out, 0);
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kInternal, fmt::format("{}: rnp output: {}", what, RnpError(r)));
  }
  Output out(raw_out);
  rnp_op_verify_t raw_op = nullptr;
  r = rnp_op_verify_create(&raw_op, keyring.ffi_.get(), in.get(), out.get());
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("{}: not an OpenPGP clear-signed document: {}", what, RnpError(r)));
  }
  VerifyOp op(raw_op);
  rnp_result_t executed;
  {
    // Debian's librnp prints a diagnostic line on stderr for every bad or unknown signature, with
    // no switch to turn it off; the failure is reported here, once, in one line.
    QuietStderr quiet;
    executed = rnp_op_verify_execute(op.get());
  }

  size_t count = 0;
  if (rnp_op_verify_get_signature_count(op.get(), &count) != RNP_SUCCESS) count = 0;
  VerifiedText result;
  std::map<rnp_result_t, std::vector<std::string>> failures;
  for (size_t i = 0; i < count; ++i) {
    rnp_op_verify_signature_t sig = nullptr;
    if (rnp_op_verify_get_signature_at(op.get(), i, &sig) != RNP_SUCCESS || sig == nullptr) {
      continue;
    }
    rnp_result_t status = rnp_op_verify_signature_get_status(sig);
    if (status != RNP_SUCCESS) {
      failures[status].push_back(IssuerOf(sig));
      continue;
    }
    rnp_key_handle_t raw_key = nullptr;
    if (rnp_op_verify_signature_get_key(sig, &raw_key) != RNP_SUCCESS || raw_key == nullptr) {
      failures[RNP_ERROR_KEY_NOT_FOUND].push_back(IssuerOf(sig));
      continue;
    }
    Key key(raw_key);
    HB_TRY(std::string fpr, WithContext(PrimaryFingerprint(key.get()), what));
    if (std::find(result.signer_fingerprints.begin(), result.signer_fingerprints.end(), fpr) ==
        result.signer_fingerprints.end()) {
      result.signer_fingerprints.push_back(std::move(fpr));
    }
  }

  std::string keyrings = keyring.sources().empty() ? "(empty)" : JoinComma(keyring.sources());
  if (result.signer_fingerprints.empty()) {
    if (count == 0) {
      return Fail(ErrorCode::kIntegrity,
                  fmt::format("{}: no good signature from keyring {}: no signature block ({})",
                              what, keyrings, RnpError(executed)));
    }
    return Fail(ErrorCode::kIntegrity, fmt::format("{}: no good signature from keyring {}: {}",
                                                   what, keyrings, DescribeFailures(failures)));
  }
  if (executed != RNP_SUCCESS) {
    return Fail(ErrorCode::kIntegrity,
                fmt::format("{}: malformed clear-signed document: {}", what, RnpError(executed)));
  }

  uint8_t* buf = nullptr;
  size_t len = 0;
  r = rnp_output_memory_get_buf(out.get(), &buf, &len, false);
  if (r != RNP_SUCCESS) {
    return Fail(ErrorCode::kInternal, fmt::format("{}: rnp output: {}", what, RnpError(r)));
  }
  result.signed_text.assign(reinterpret_cast<const char*>(buf), len);
  return result;
}

}  // namespace hardbase::deb
