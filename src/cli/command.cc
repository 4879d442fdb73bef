#include "cli/command.h"

#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "base/fs.h"

namespace hardbase::cli {
namespace {

// One line read from the terminal with echo off.
Result<std::string> Prompt(int tty, std::string_view question) {
  if (::write(tty, question.data(), question.size()) < 0) {
    return Fail(ErrorCode::kIo, "write to the terminal failed");
  }
  termios old{};
  bool restore = ::tcgetattr(tty, &old) == 0;
  if (restore) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(tty, TCSAFLUSH, &quiet);
  }
  std::string line;
  char c;
  while (::read(tty, &c, 1) == 1 && c != '\n') line += c;
  if (restore) ::tcsetattr(tty, TCSAFLUSH, &old);
  (void)!::write(tty, "\n", 1);
  return line;
}

}  // namespace

std::string CacheDir(const GlobalOptions& global) {
  return global.cache_dir.empty() ? cache::DefaultCacheDir() : global.cache_dir;
}

std::vector<std::string> Choices(std::span<const std::string_view> names) {
  return {names.begin(), names.end()};
}

Result<void> WriteOutput(const std::string& path, std::string text) {
  if (!text.ends_with('\n')) text += '\n';
  if (!path.empty() && path != "-") return WriteFileAtomic(path, text);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return {};
}

Result<cache::BlobStore> OpenCache(const GlobalOptions& global) {
  return cache::BlobStore::Open(CacheDir(global));
}

Result<std::string> PromptSecret(std::string_view question) {
  int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) return Fail(ErrorCode::kUsage, "there is no terminal to ask for a secret on");
  auto answer = Prompt(tty, question);
  ::close(tty);
  return answer;
}

Result<std::string> KeyPassword(bool confirm) {
  if (const char* env = std::getenv("COSIGN_PASSWORD")) return std::string(env);
  int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) {
    return Fail(ErrorCode::kUsage,
                "no key password: set COSIGN_PASSWORD (there is no terminal to ask on)");
  }
  auto first = Prompt(tty, "Enter password for private key: ");
  Result<std::string> second = first;
  if (first && confirm) second = Prompt(tty, "Enter password for private key again: ");
  ::close(tty);
  HB_TRY(std::string password, first);
  HB_TRY(std::string again, second);
  if (password != again) return Fail(ErrorCode::kUsage, "the passwords do not match");
  return password;
}

Result<sign::PrivateKey> LoadPrivateKey(const std::string& path) {
  HB_TRY(std::string pem, ReadFile(path));
  HB_TRY(std::string password, KeyPassword(false));
  return sign::DecryptPrivateKey(pem, password, path);
}

void AddRegistryFlags(CLI::App* cmd, RegistryFlags& flags) {
  cmd->add_flag("--plain-http", flags.plain_http,
                "Speak plain http to the registry (local registries without TLS)");
  cmd->add_option("--tls-verify", flags.tls_verify,
                  "Check the registry's TLS certificate (--tls-verify=false also falls back to "
                  "http)")
      ->capture_default_str();
  cmd->add_option("--cert-file", flags.cert_file,
                  "Trust the certificates in this PEM file instead of the system's");
  cmd->add_option("--authfile", flags.auth_file,
                  "Credentials file (default $REGISTRY_AUTH_FILE, else ~/.docker/config.json)");
  cmd->add_option("--creds", flags.creds, "USER:PASS for the registry (never printed)");
}

Result<registry::RegistryOptions> RegistryOptionsFrom(const RegistryFlags& flags,
                                                      const std::string& creds) {
  registry::RegistryOptions options;
  options.plain_http = flags.plain_http;
  options.tls_verify = flags.tls_verify;
  options.ca_file = flags.cert_file;
  options.auth_file = flags.auth_file;
  const std::string& given = creds.empty() ? flags.creds : creds;
  if (!given.empty()) {
    HB_TRY(registry::Credentials c, registry::ParseCredsFlag(given));
    options.credentials = std::move(c);
  }
  return options;
}

Result<sign::PublicKey> LoadPublicKey(const std::string& path) {
  HB_TRY(std::string pem, ReadFile(path));
  return sign::PublicKey::FromPem(pem, path);
}

}  // namespace hardbase::cli
