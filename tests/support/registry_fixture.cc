#include "support/registry_fixture.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>

#include "base/base64.h"
#include "base/strings.h"
#include "support/process.h"

namespace hardbase::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Percent-decodes a query component; '+' is a space, a malformed escape is kept as it is.
std::string QueryDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out.push_back(' ');
    } else if (in[i] == '%' && i + 2 < in.size() &&
               std::isxdigit(static_cast<unsigned char>(in[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(in[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string QueryEncode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : in) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// name=value pairs of a query string, decoded, in order (names may repeat).
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? "" : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    out.emplace_back(QueryDecode(item.substr(0, eq)),
                     eq == std::string_view::npos ? "" : QueryDecode(item.substr(eq + 1)));
  }
  return out;
}

std::string Base64Url(std::string_view bytes) {
  std::string out = Base64Encode(bytes);
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!out.empty() && out.back() == '=') out.pop_back();
  return out;
}

std::string Rfc3339(time_t t) {
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    // Not secret material: a clock-seeded fallback is fine for a test id.
    for (char& c : raw) c = static_cast<char>(std::rand());
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

// Last OpenSSL error as text, for messages.
std::string OpensslError() {
  unsigned long e = ERR_get_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* p) const { ECDSA_SIG_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t CollectBody(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// Keeps the header fields of the last response: a status line starts a new response (after a
// 100 Continue, say).
size_t CollectHeader(char* data, size_t size, size_t n, void* user) {
  auto* headers = static_cast<HttpHeaders*>(user);
  std::string_view line = Trim(std::string_view(data, size * n));
  if (line.starts_with("HTTP/")) {
    headers->clear();
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos && colon > 0) {
    headers->emplace_back(std::string(Trim(line.substr(0, colon))),
                          std::string(Trim(line.substr(colon + 1))));
  }
  return size * n;
}

// Header fields that belong to one connection, not to the message (RFC 9110 section 7.6.1), plus
// those the forwarding client computes itself.
bool IsHopByHop(std::string_view name) {
  for (std::string_view h :
       {"Connection", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization", "Proxy-Connection",
        "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Content-Length", "Host", "Expect"}) {
    if (EqualsIgnoreCase(name, h)) return true;
  }
  return false;
}

std::string DescribeWaitStatus(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Result<uint16_t> FreeLoopbackPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Fail(ErrorCode::kIo, std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    ::close(fd);
    return Fail(ErrorCode::kIo, std::string("bind 127.0.0.1:0: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string_view rest = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    size_t colon = rest.find(':');
    std::string dir(rest.substr(0, colon));
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string_view::npos) return "";
    rest.remove_prefix(colon + 1);
  }
}

// ---------------------------------------------------------------------------------------------
// CurlRequest

Result<CurlReply> CurlRequest(const std::string& url, const CurlOptions& options) {
  InitCurlOnce();
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Fail(ErrorCode::kInternal, "curl_easy_init failed");
  CURL* h = curl.get();
  CurlReply reply;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROXY, "");  // never an $http_proxy: everything is on loopback
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, options.timeout_seconds);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, CollectHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &reply.headers);
  if (options.ca_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    curl_easy_setopt(h, CURLOPT_CAINFO, options.ca_file.c_str());
  }
  if (!options.basic_user.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, options.basic_user.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, options.basic_password.c_str());
  }
  if (options.body) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(options.body->size()));
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, options.body->data());
  }
  if (options.method == "HEAD") {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (options.method != "GET" || options.body) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, options.method.c_str());
  }
  curl_slist* list = nullptr;
  bool has_content_type = false;
  for (const auto& [name, value] : options.headers) {
    if (EqualsIgnoreCase(name, "Content-Type")) has_content_type = true;
    list = curl_slist_append(list, (name + ": " + value).c_str());
  }
  list = curl_slist_append(list, "Expect:");  // no 100-continue round trip
  // libcurl would label a body without a type as a form.
  if (options.body && !has_content_type) list = curl_slist_append(list, "Content-Type:");
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) {
    return Fail(ErrorCode::kNetwork,
                options.method + " " + url + ": " + (error[0] ? error : curl_easy_strerror(rc)));
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  reply.status = static_cast<int>(status);
  return reply;
}

// ---------------------------------------------------------------------------------------------
// Certificates

namespace {

// A fresh P-256 key and a self-signed certificate for it.
Result<std::pair<PkeyPtr, std::unique_ptr<X509, X509Free>>> MakeKeyAndCertificate(
    const std::string& common_name) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return Fail(ErrorCode::kInternal, "generate P-256 key: " + OpensslError());
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) return Fail(ErrorCode::kInternal, "X509_new: " + OpensslError());
  X509* x = cert.get();
  X509_set_version(x, 2);
  // A random positive serial, so two certificates of one test never look like the same one.
  uint64_t serial = 0;
  RAND_bytes(reinterpret_cast<unsigned char*>(&serial), sizeof serial);
  ASN1_INTEGER_set(X509_get_serialNumber(x), static_cast<long>((serial >> 2) | 1));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 24 * 3600);
  X509_set_pubkey(x, key.get());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
                             0);
  X509_set_issuer_name(x, name);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  const std::pair<int, const char*> extensions[] = {
      {NID_basic_constraints, "critical,CA:TRUE"},
      {NID_key_usage, "critical,digitalSignature,keyCertSign"},
      {NID_ext_key_usage, "serverAuth"},
      {NID_subject_key_identifier, "hash"},
      {NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost"},
  };
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    if (!ext)
      return Fail(ErrorCode::kInternal, std::string("extension ") + value + ": " + OpensslError());
    X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
  }
  if (X509_sign(x, key.get(), EVP_sha256()) == 0) {
    return Fail(ErrorCode::kInternal, "sign certificate: " + OpensslError());
  }
  return std::make_pair(std::move(key), std::move(cert));
}

}  // namespace

Result<SelfSignedCertificate> WriteSelfSignedCertificate(const std::string& dir,
                                                         const std::string& name,
                                                         const std::string& common_name) {
  HB_TRY(auto made, MakeKeyAndCertificate(common_name));
  std::unique_ptr<BIO, BioFree> cert_bio(BIO_new(BIO_s_mem()));
  std::unique_ptr<BIO, BioFree> key_bio(BIO_new(BIO_s_mem()));
  if (!cert_bio || !key_bio || PEM_write_bio_X509(cert_bio.get(), made.second.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), made.first.get(), nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return Fail(ErrorCode::kInternal, "write PEM: " + OpensslError());
  }
  unsigned char* der = nullptr;
  int der_len = i2d_X509(made.second.get(), &der);
  if (der_len <= 0) return Fail(ErrorCode::kInternal, "encode certificate: " + OpensslError());
  SelfSignedCertificate out;
  out.cert_der.assign(reinterpret_cast<const char*>(der), static_cast<size_t>(der_len));
  OPENSSL_free(der);
  out.cert_path = dir + "/" + name + ".crt";
  out.key_path = dir + "/" + name + ".key";
  HB_TRY_VOID(WriteFileAtomic(out.cert_path, BioContents(cert_bio.get())));
  HB_TRY_VOID(WriteFileAtomic(out.key_path, BioContents(key_bio.get()), 0600));
  return out;
}

// ---------------------------------------------------------------------------------------------
// TokenIssuer

struct TokenIssuer::Key {
  PkeyPtr pkey;
};

TokenIssuer::TokenIssuer(TokenIssuerOptions options) : options_(std::move(options)) {}

TokenIssuer::~TokenIssuer() { Stop(); }

Result<void> TokenIssuer::Start() {
  HB_TRY(TempDir dir, TempDir::Create("hardbase-token-issuer-"));
  dir_.emplace(std::move(dir));
  HB_TRY(cert_, WriteSelfSignedCertificate(dir_->path(), "token", options_.issuer));
  HB_TRY(std::string key_pem, ReadFile(cert_.key_path));
  std::unique_ptr<BIO, BioFree> bio(
      BIO_new_mem_buf(key_pem.data(), static_cast<int>(key_pem.size())));
  key_ = std::make_unique<Key>();
  key_->pkey.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key_->pkey) return Fail(ErrorCode::kInternal, "read token key: " + OpensslError());
  server_.SetHandler([this](const HttpRequest& request) { return Handle(request); });
  server_.SetRejectTlsClients(true);
  return WithContext(server_.Start(), "token issuer");
}

void TokenIssuer::Stop() { server_.Stop(); }

std::string TokenIssuer::realm() const { return server_.Url("/token"); }

int TokenIssuer::TokensIssued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return tokens_issued_;
}

std::vector<TokenRequest> TokenIssuer::Requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

std::vector<std::string> TokenIssuer::Scopes() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const TokenRequest& r : requests_) {
    if (r.status == 200) out.insert(out.end(), r.scopes.begin(), r.scopes.end());
  }
  return out;
}

namespace {

// The `access` claim for scopes "TYPE:NAME:ACTION,ACTION"; with `pull_only`, actions other than
// pull are left out (and a scope left with none is dropped).
nlohmann::json AccessClaim(const std::vector<std::string>& scopes, bool pull_only) {
  nlohmann::json access = nlohmann::json::array();
  for (const std::string& scope : scopes) {
    size_t first = scope.find(':');
    size_t last = scope.rfind(':');
    if (first == std::string::npos || last == first) continue;
    std::string type = scope.substr(0, first);
    // "repository(plugin)" style type classes are reduced to the type.
    if (size_t paren = type.find('('); paren != std::string::npos) type.resize(paren);
    nlohmann::json actions = nlohmann::json::array();
    std::string_view rest = std::string_view(scope).substr(last + 1);
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string action(Trim(rest.substr(0, comma)));
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      if (action.empty() || (pull_only && action != "pull")) continue;
      actions.push_back(action);
    }
    if (actions.empty()) continue;
    access.push_back({{"type", type},
                      {"name", scope.substr(first + 1, last - first - 1)},
                      {"actions", actions}});
  }
  return access;
}

}  // namespace

Result<std::string> TokenIssuer::MakeToken(const std::string& account,
                                           const std::vector<std::string>& scopes,
                                           std::optional<int> lifetime) const {
  if (!key_) return Fail(ErrorCode::kInternal, "token issuer not started");
  const time_t now = std::time(nullptr);
  nlohmann::json header = {{"alg", "ES256"},
                           {"typ", "JWT"},
                           {"x5c", nlohmann::json::array({Base64Encode(cert_.cert_der)})}};
  nlohmann::json claims = {
      {"iss", options_.issuer},
      {"sub", account},
      {"aud", options_.service},
      {"exp", static_cast<int64_t>(now) +
                  lifetime.value_or(options_.jwt_lifetime.value_or(options_.expires_in))},
      {"nbf", static_cast<int64_t>(now)},
      {"iat", static_cast<int64_t>(now)},
      {"jti", RandomHex(16)},
      {"access", AccessClaim(scopes, account.empty())},
  };
  const std::string signing_input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());

  std::unique_ptr<EVP_MD_CTX, MdCtxFree> md(EVP_MD_CTX_new());
  size_t der_len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_->pkey.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Fail(ErrorCode::kInternal, "sign token: " + OpensslError());
  }
  std::string der(der_len, '\0');
  if (EVP_DigestSign(md.get(), reinterpret_cast<unsigned char*>(der.data()), &der_len,
                     reinterpret_cast<const unsigned char*>(signing_input.data()),
                     signing_input.size()) != 1) {
    return Fail(ErrorCode::kInternal, "sign token: " + OpensslError());
  }
  // JWS wants r || s, each 32 bytes big-endian, not the DER ECDSA-Sig-Value OpenSSL produces.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der_len)));
  if (!sig) return Fail(ErrorCode::kInternal, "decode ECDSA signature: " + OpensslError());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  unsigned char raw[64];
  if (BN_bn2binpad(r, raw, 32) != 32 || BN_bn2binpad(s, raw + 32, 32) != 32) {
    return Fail(ErrorCode::kInternal, "encode ECDSA signature: " + OpensslError());
  }
  return signing_input + "." +
         Base64Url(std::string_view(reinterpret_cast<const char*>(raw), sizeof raw));
}

std::optional<HttpResponse> TokenIssuer::Handle(const HttpRequest& request) {
  if (request.path != "/token") return HttpResponse{404, {}, "not found\n"};
  TokenRequest record;
  for (const auto& [name, value] : ParseQuery(request.query)) {
    if (name == "service") record.service = value;
    if (name == "scope") {
      std::string_view rest = value;
      while (!rest.empty()) {
        size_t space = rest.find(' ');
        std::string_view one = rest.substr(0, space);
        rest = space == std::string_view::npos ? "" : rest.substr(space + 1);
        if (!one.empty()) record.scopes.emplace_back(one);
      }
    }
  }
  const HttpResponse unauthorized{
      401,
      {{"Content-Type", "application/json"},
       {"WWW-Authenticate", "Basic realm=\"" + options_.issuer + "\""}},
      R"({"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]})"};
  auto finish = [&](HttpResponse response) {
    record.status = response.status;
    std::lock_guard<std::mutex> lock(mu_);
    if (response.status == 200) ++tokens_issued_;
    requests_.push_back(record);
    return response;
  };

  auto authorization = request.Header("Authorization");
  if (authorization) {
    std::string_view value = Trim(*authorization);
    if (value.size() < 6 || !EqualsIgnoreCase(value.substr(0, 6), "Basic ")) {
      return finish(unauthorized);
    }
    auto decoded = Base64Decode(Trim(value.substr(6)), "Basic credentials");
    size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) return finish(unauthorized);
    record.account = decoded->substr(0, colon);
    if (record.account != options_.user || decoded->substr(colon + 1) != options_.password) {
      return finish(unauthorized);
    }
  } else if (!options_.allow_anonymous_pull) {
    return finish(unauthorized);
  }
  if (!record.service.empty() && record.service != options_.service) {
    return finish(HttpResponse{400, {}, "unknown service " + record.service + "\n"});
  }
  std::optional<int> lifetime;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (tokens_issued_ < options_.stale_tokens) lifetime = -3600;
  }
  auto token = MakeToken(record.account, record.scopes, lifetime);
  if (!token) return finish(HttpResponse{500, {}, token.error().message + "\n"});
  nlohmann::json body = {{"token", *token},
                         {"access_token", *token},
                         {"expires_in", options_.expires_in},
                         {"issued_at", Rfc3339(std::time(nullptr))}};
  return finish(HttpResponse{200, {{"Content-Type", "application/json"}}, body.dump()});
}

// ---------------------------------------------------------------------------------------------
// RegistryServer

Result<std::unique_ptr<RegistryServer>> RegistryServer::Start(RegistryOptions options) {
  if (options.auth == RegistryOptions::Auth::kToken &&
      (!options.token_issuer || options.token_issuer->cert_path().empty())) {
    return Fail(ErrorCode::kInternal, "registry with token auth needs a started TokenIssuer");
  }
  const std::string program = FindInPath("docker-registry");
  if (program.empty()) return Fail(ErrorCode::kNotFound, "docker-registry is not installed");
  HB_TRY(TempDir dir, TempDir::Create("hardbase-registry-"));
  std::unique_ptr<RegistryServer> server(new RegistryServer(std::move(options), std::move(dir)));
  HB_TRY_VOID(server->WriteFiles());
  Error last{ErrorCode::kNetwork, "no attempt"};
  for (int attempt = 0; attempt < 5; ++attempt) {
    HB_TRY(uint16_t port, FreeLoopbackPort());
    auto launched = server->Launch(port);
    if (launched) return server;
    last = launched.error();
    // kNetwork: the registry exited before answering (most likely the port was taken meanwhile);
    // anything else will not get better with another port.
    if (last.code != ErrorCode::kNetwork) break;
  }
  return Fail(std::move(last).Wrap("start docker-registry"));
}

RegistryServer::~RegistryServer() { Stop(); }

void RegistryServer::Stop() { KillChild(); }

Result<void> RegistryServer::WriteFiles() {
  const std::string& d = dir_.path();
  HB_TRY_VOID(MakeDirs(storage_dir()));
  if (options_.tls) {
    HB_TRY(cert_, WriteSelfSignedCertificate(d, "tls", "127.0.0.1"));
    HB_TRY_VOID(MakeDirs(cert_dir()));
    HB_TRY(std::string pem, ReadFile(cert_.cert_path));
    HB_TRY_VOID(WriteFileAtomic(cert_dir() + "/ca.crt", pem));
  }
  if (options_.auth == RegistryOptions::Auth::kHtpasswd) {
    ProcessResult r = RunProcess({"htpasswd", "-Bbn", options_.user, options_.password});
    if (r.exit_code != 0) {
      return Fail(ErrorCode::kInternal,
                  "htpasswd -Bbn: exit " + std::to_string(r.exit_code) + ": " + r.err);
    }
    HB_TRY_VOID(WriteFileAtomic(d + "/htpasswd", r.out));
  }
  return {};
}

Result<void> RegistryServer::Launch(uint16_t port) {
  const std::string& d = dir_.path();
  std::string config =
      "version: 0.1\n"
      "log:\n  level: info\n"
      "storage:\n"
      "  filesystem: {rootdirectory: \"" +
      storage_dir() +
      "\"}\n"
      "  delete: {enabled: true}\n"
      "  maintenance: {uploadpurging: {enabled: false}}\n"
      "http:\n"
      "  addr: 127.0.0.1:" +
      std::to_string(port) +
      "\n"
      "  secret: hardbase-test-secret\n";
  if (options_.tls) {
    config +=
        "  tls: {certificate: \"" + cert_.cert_path + "\", key: \"" + cert_.key_path + "\"}\n";
  }
  if (options_.auth == RegistryOptions::Auth::kHtpasswd) {
    config += "auth:\n  htpasswd: {realm: test-registry, path: \"" + d + "/htpasswd\"}\n";
  } else if (options_.auth == RegistryOptions::Auth::kToken) {
    const TokenIssuer& issuer = *options_.token_issuer;
    config +=
        "auth:\n  token:\n"
        "    realm: \"" +
        issuer.realm() +
        "\"\n"
        "    service: \"" +
        issuer.options().service +
        "\"\n"
        "    issuer: \"" +
        issuer.options().issuer +
        "\"\n"
        "    rootcertbundle: \"" +
        issuer.cert_path() + "\"\n";
  }
  HB_TRY_VOID(WriteFileAtomic(config_path(), config));

  const std::string program = FindInPath("docker-registry");
  const std::string log_path = d + "/registry.log";
  int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    int err = errno;
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Fail(ErrorCode::kIo, "open " + log_path + ": " + std::strerror(err));
  }
  // Everything the child needs is made before fork: between fork and exec only async-signal-safe
  // calls are allowed in a threaded process.
  std::vector<std::string> args = {program, "serve", config_path()};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);  // the parent died before prctl took effect
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int fork_errno = errno;
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) return Fail(ErrorCode::kInternal, std::string("fork: ") + std::strerror(fork_errno));
  pid_ = pid;
  port_ = port;

  const auto deadline = Clock::now() + std::chrono::seconds(options_.start_timeout_seconds);
  CurlOptions probe;
  probe.timeout_seconds = 2;
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return Fail(ErrorCode::kNetwork, "docker-registry on port " + std::to_string(port) +
                                           " exited (" + DescribeWaitStatus(status) +
                                           ") before answering; log:\n" + log());
    }
    auto reply = CurlRequest(base_url() + "/v2/", probe);
    if (reply && (reply->status == 200 || reply->status == 401)) return {};
    if (Clock::now() > deadline) {
      KillChild();
      return Fail(ErrorCode::kInternal,
                  "docker-registry did not answer GET /v2/ within " +
                      std::to_string(options_.start_timeout_seconds) + " s (last: " +
                      (reply ? "status " + std::to_string(reply->status) : reply.error().message) +
                      "); log:\n" + log());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void RegistryServer::KillChild() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  const auto deadline = Clock::now() + std::chrono::seconds(1);
  int status = 0;
  while (true) {
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_ || (r < 0 && errno != EINTR)) break;
    if (Clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  pid_ = -1;
}

std::string RegistryServer::host() const { return "127.0.0.1:" + std::to_string(port_); }

std::string RegistryServer::base_url() const { return (tls() ? "https://" : "http://") + host(); }

std::string RegistryServer::log() const {
  auto text = ReadFile(dir_.path() + "/registry.log");
  return text ? *text : "(no log: " + text.error().message + ")";
}

std::string RegistryServer::user() const {
  switch (options_.auth) {
    case RegistryOptions::Auth::kNone:
      return "";
    case RegistryOptions::Auth::kHtpasswd:
      return options_.user;
    case RegistryOptions::Auth::kToken:
      return options_.token_issuer->options().user;
  }
  return "";
}

std::string RegistryServer::password() const {
  switch (options_.auth) {
    case RegistryOptions::Auth::kNone:
      return "";
    case RegistryOptions::Auth::kHtpasswd:
      return options_.password;
    case RegistryOptions::Auth::kToken:
      return options_.token_issuer->options().password;
  }
  return "";
}

std::string RegistryServer::creds() const {
  return options_.auth == RegistryOptions::Auth::kNone ? "" : user() + ":" + password();
}

Result<CurlReply> RegistryServer::AuthorizedGet(const std::string& path, const std::string& scope,
                                                const HttpHeaders& headers) const {
  CurlOptions options;
  options.ca_file = ca_file();
  options.headers = headers;
  if (options_.auth == RegistryOptions::Auth::kHtpasswd) {
    options.basic_user = user();
    options.basic_password = password();
  } else if (options_.auth == RegistryOptions::Auth::kToken) {
    const TokenIssuer& issuer = *options_.token_issuer;
    CurlOptions token_options;
    token_options.basic_user = user();
    token_options.basic_password = password();
    HB_TRY(CurlReply token_reply,
           CurlRequest(issuer.realm() + "?service=" + QueryEncode(issuer.options().service) +
                           "&scope=" + QueryEncode(scope),
                       token_options));
    if (token_reply.status != 200) {
      return Fail(ErrorCode::kAuth,
                  "token for " + scope + ": status " + std::to_string(token_reply.status));
    }
    auto json = nlohmann::json::parse(token_reply.body, nullptr, false);
    if (!json.is_object() || !json.contains("token") || !json["token"].is_string()) {
      return Fail(ErrorCode::kSpec, "token answer without token: " + token_reply.body);
    }
    options.headers.emplace_back("Authorization", "Bearer " + json["token"].get<std::string>());
  }
  return CurlRequest(base_url() + path, options);
}

Result<std::vector<std::string>> RegistryServer::ListTags(const std::string& repo) const {
  HB_TRY(CurlReply reply,
         AuthorizedGet("/v2/" + repo + "/tags/list", "repository:" + repo + ":pull"));
  if (reply.status == 404) return Fail(ErrorCode::kNotFound, "tags of " + repo + ": " + reply.body);
  if (reply.status != 200) {
    return Fail(ErrorCode::kNetwork,
                "tags of " + repo + ": status " + std::to_string(reply.status) + ": " + reply.body);
  }
  auto json = nlohmann::json::parse(reply.body, nullptr, false);
  if (!json.is_object()) return Fail(ErrorCode::kSpec, "tags of " + repo + ": " + reply.body);
  std::vector<std::string> tags;
  if (json.contains("tags") && json["tags"].is_array()) {
    for (const auto& t : json["tags"]) {
      if (t.is_string()) tags.push_back(t.get<std::string>());
    }
  }
  return tags;
}

Result<FetchedManifest> RegistryServer::GetManifest(const std::string& repo,
                                                    const std::string& reference) const {
  const HttpHeaders accept = {
      {"Accept",
       "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
       "application/vnd.docker.distribution.manifest.v2+json, "
       "application/vnd.docker.distribution.manifest.list.v2+json"}};
  const std::string what = "manifest " + repo + ":" + reference;
  HB_TRY(CurlReply reply, AuthorizedGet("/v2/" + repo + "/manifests/" + reference,
                                        "repository:" + repo + ":pull", accept));
  if (reply.status == 404) return Fail(ErrorCode::kNotFound, what + ": " + reply.body);
  if (reply.status != 200) {
    return Fail(ErrorCode::kNetwork,
                what + ": status " + std::to_string(reply.status) + ": " + reply.body);
  }
  FetchedManifest out;
  out.media_type = reply.Header("Content-Type").value_or("");
  out.digest = reply.Header("Docker-Content-Digest").value_or("");
  out.body = std::move(reply.body);
  return out;
}

Result<std::string> RegistryServer::GetBlob(const std::string& repo,
                                            const std::string& digest) const {
  const std::string what = "blob " + repo + "@" + digest;
  HB_TRY(CurlReply reply,
         AuthorizedGet("/v2/" + repo + "/blobs/" + digest, "repository:" + repo + ":pull"));
  if (reply.status >= 300 && reply.status < 400) {
    auto location = reply.Header("Location");
    if (!location) return Fail(ErrorCode::kSpec, what + ": redirect without Location");
    CurlOptions options;
    options.ca_file = ca_file();
    HB_TRY(reply, CurlRequest(*location, options));
  }
  if (reply.status == 404) return Fail(ErrorCode::kNotFound, what + ": " + reply.body);
  if (reply.status != 200) {
    return Fail(ErrorCode::kNetwork, what + ": status " + std::to_string(reply.status));
  }
  return std::move(reply.body);
}

// ---------------------------------------------------------------------------------------------
// FaultProxy

FaultProxy::FaultProxy(std::string upstream, std::string ca_file)
    : upstream_(std::move(upstream)), ca_file_(std::move(ca_file)) {
  while (!upstream_.empty() && upstream_ != "/" && upstream_.back() == '/') upstream_.pop_back();
}

FaultProxy::~FaultProxy() { Stop(); }

Result<void> FaultProxy::Start() {
  server_.SetHandler([this](const HttpRequest& request) { return Handle(request); });
  server_.SetRejectTlsClients(true);  // skopeo tries HTTPS first
  return WithContext(server_.Start(), "fault proxy");
}

void FaultProxy::Stop() { server_.Stop(); }

std::string FaultProxy::host() const { return "127.0.0.1:" + std::to_string(server_.port()); }

std::string FaultProxy::base_url() const { return server_.base_url(); }

void FaultProxy::FailOnce(const std::string& method, const std::string& path_substring, int status,
                          HttpHeaders headers) {
  Fault f;
  f.method = method;
  f.path_substring = path_substring;
  f.status = status;
  f.headers = std::move(headers);
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(f));
}

void FaultProxy::DropOnce(const std::string& method, const std::string& path_substring,
                          size_t forward_bytes) {
  Fault f;
  f.method = method;
  f.path_substring = path_substring;
  f.drop = true;
  f.forward_bytes = forward_bytes;
  std::lock_guard<std::mutex> lock(mu_);
  faults_.push_back(std::move(f));
}

int FaultProxy::PendingFaults() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(faults_.size());
}

void FaultProxy::ClearFaults() {
  std::lock_guard<std::mutex> lock(mu_);
  faults_.clear();
}

std::vector<ProxyLogEntry> FaultProxy::Log() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_;
}

int FaultProxy::Count(const std::string& method, const std::string& path_substring) const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(std::count_if(log_.begin(), log_.end(), [&](const ProxyLogEntry& e) {
    return (method.empty() || e.method == method) &&
           e.path.find(path_substring) != std::string::npos;
  }));
}

void FaultProxy::ClearLog() {
  std::lock_guard<std::mutex> lock(mu_);
  log_.clear();
}

std::optional<HttpResponse> FaultProxy::Handle(const HttpRequest& request) {
  std::optional<Fault> fault;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = faults_.begin(); it != faults_.end(); ++it) {
      if ((it->method.empty() || it->method == request.method) &&
          request.path.find(it->path_substring) != std::string::npos) {
        fault = std::move(*it);
        faults_.erase(it);
        break;
      }
    }
  }
  ProxyLogEntry entry{request.method,    request.path,       request.query, 0,
                      fault.has_value(), request.body.size()};
  HttpResponse response;
  if (fault && !fault->drop) {
    response = HttpResponse{fault->status, fault->headers, ""};
  } else if (fault) {
    // Forward a prefix of the body as if it were all of it, so the upstream stores exactly that,
    // then hang up on the client.
    HttpRequest partial = request;
    const size_t n = std::min(fault->forward_bytes, request.body.size());
    for (auto& [name, value] : partial.headers) {
      if (!EqualsIgnoreCase(name, "Content-Range")) continue;
      size_t dash = value.find('-');
      if (dash == std::string::npos || n == 0) continue;
      const std::string start_text = value.substr(0, dash);
      char* end = nullptr;
      unsigned long long start = std::strtoull(start_text.c_str(), &end, 10);
      if (end && *end == '\0') value = start_text + "-" + std::to_string(start + n - 1);
    }
    (void)Forward(partial, request.body.substr(0, n));
    response.drop_connection = true;
  } else {
    response = Forward(request, request.body);
  }
  entry.status = response.drop_connection ? 0 : response.status;
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back(std::move(entry));
  return response;
}

HttpResponse FaultProxy::Forward(const HttpRequest& request, const std::string& body) {
  CurlOptions options;
  options.method = request.method;
  options.ca_file = ca_file_;
  options.timeout_seconds = 120;
  // Headers named by Connection are hop-by-hop too.
  std::vector<std::string> connection_tokens;
  {
    const std::string connection = request.Header("Connection").value_or("");
    std::string_view rest = connection;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view token = Trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      if (!token.empty()) connection_tokens.emplace_back(token);
    }
  }
  for (const auto& [name, value] : request.headers) {
    const std::string& header_name = name;  // clang 14 cannot capture a structured binding
    if (IsHopByHop(name) ||
        std::any_of(connection_tokens.begin(), connection_tokens.end(),
                    [&](const std::string& t) { return EqualsIgnoreCase(t, header_name); })) {
      continue;
    }
    options.headers.emplace_back(name, value);
  }
  // docker-registry builds absolute Location URLs from Host and X-Forwarded-Proto.
  options.headers.emplace_back("Host", host());
  options.headers.emplace_back("X-Forwarded-Proto", "http");
  const bool has_body = request.Header("Content-Length").has_value() ||
                        request.Header("Transfer-Encoding").has_value() || !body.empty();
  if (has_body) options.body = body;

  const std::string url =
      upstream_ + request.path + (request.query.empty() ? "" : "?" + request.query);
  auto reply = CurlRequest(url, options);
  if (!reply) {
    return HttpResponse{502, {{"Content-Type", "text/plain"}}, reply.error().message + "\n"};
  }
  HttpResponse response;
  response.status = reply->status;
  response.body = std::move(reply->body);
  for (auto& [name, value] : reply->headers) {
    if (EqualsIgnoreCase(name, "Content-Length")) {
      if (request.method == "HEAD") {
        char* end = nullptr;
        unsigned long long length = std::strtoull(value.c_str(), &end, 10);
        if (end && *end == '\0') response.head_content_length = length;
      }
      continue;
    }
    if (IsHopByHop(name)) continue;
    if (EqualsIgnoreCase(name, "Location") && value.starts_with(upstream_ + "/")) {
      value = base_url() + value.substr(upstream_.size());
    }
    response.headers.emplace_back(name, value);
  }
  return response;
}

}  // namespace hardbase::testing
