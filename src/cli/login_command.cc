// `hardbase login HOST` and `hardbase logout HOST`: credentials for a registry, checked against it
// and stored in the docker config format that docker, podman and skopeo read too.
#include <fcntl.h>
#include <unistd.h>

#include <iostream>

#include "base/log.h"
#include "cli/command.h"
#include "registry/auth.h"
#include "registry/client.h"

namespace hardbase::cli {
namespace {

struct LoginFlags {
  std::string host;
  std::string username;
  bool password_stdin = false;
  RegistryFlags registry;
};

// "docker://host/..." or "host/..." -> "host": people paste whole references.
std::string HostOf(std::string text) {
  if (text.starts_with("docker://")) text = text.substr(9);
  if (text.starts_with("https://")) text = text.substr(8);
  if (text.starts_with("http://")) text = text.substr(7);
  return text.substr(0, text.find('/'));
}

Result<registry::Credentials> AskCredentials(const LoginFlags& flags) {
  if (!flags.registry.creds.empty()) return registry::ParseCredsFlag(flags.registry.creds);
  registry::Credentials creds;
  creds.username = flags.username;
  if (flags.password_stdin) {
    if (creds.username.empty()) {
      return Fail(ErrorCode::kUsage, "--password-stdin needs --username");
    }
    std::getline(std::cin, creds.password);
    if (!creds.password.empty() && creds.password.back() == '\r') creds.password.pop_back();
    return creds;
  }
  int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
  if (tty < 0) {
    return Fail(ErrorCode::kUsage,
                "no password: use --password-stdin or --creds USER:PASS "
                "(there is no terminal to ask on)");
  }
  ::close(tty);
  if (creds.username.empty()) {
    std::fprintf(stderr, "Username: ");
    std::getline(std::cin, creds.username);
  }
  HB_TRY(creds.password, PromptSecret("Password: "));
  if (creds.username.empty()) return Fail(ErrorCode::kUsage, "no username given");
  return creds;
}

Result<int> RunLogin(const LoginFlags& flags) {
  std::string host = HostOf(flags.host);
  HB_TRY(registry::Credentials creds, AskCredentials(flags));
  HB_TRY(registry::RegistryOptions options, RegistryOptionsFrom(flags.registry));
  options.credentials = creds;
  HB_TRY(auto reg, registry::Registry::Open(host, options));
  HB_TRY_VOID(WithContext(reg->CheckLogin(), "login " + host));
  HB_TRY(std::string path, registry::StoreCredentials(host, creds, flags.registry.auth_file));
  LogInfo("credentials for {} stored in {}", host, path);
  std::printf("Login succeeded\n");
  return 0;
}

Result<int> RunLogout(const LoginFlags& flags) {
  std::string host = HostOf(flags.host);
  HB_TRY(bool removed, registry::RemoveCredentials(host, flags.registry.auth_file));
  if (!removed) {
    return Fail(ErrorCode::kNotFound, "logout " + host + ": not logged in (no credentials in " +
                                          registry::AuthFileForWriting(flags.registry.auth_file) +
                                          ")");
  }
  std::printf("Removed login credentials for %s\n", host.c_str());
  return 0;
}

}  // namespace

void AddLoginCommands(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<LoginFlags>();
  CLI::App* login = app.add_subcommand(
      "login",
      "Log in to a registry: check the credentials and store them (docker config "
      "format)");
  login->add_option("HOST", flags->host, "Registry host[:port]")->required();
  login->add_option("-u,--username", flags->username, "User name");
  login->add_flag("--password-stdin", flags->password_stdin,
                  "Read the password from standard input");
  AddRegistryFlags(login, flags->registry);
  login->footer(
      "Credentials go to --authfile, else $REGISTRY_AUTH_FILE, else "
      "~/.docker/config.json (mode 0600). The password is never printed.");
  login->callback([&runner, flags] { runner = [flags] { return RunLogin(*flags); }; });

  auto out_flags = std::make_shared<LoginFlags>();
  CLI::App* logout = app.add_subcommand("logout", "Remove the stored credentials of a registry");
  logout->add_option("HOST", out_flags->host, "Registry host[:port]")->required();
  logout->add_option("--authfile", out_flags->registry.auth_file, "Credentials file");
  logout->callback(
      [&runner, out_flags] { runner = [out_flags] { return RunLogout(*out_flags); }; });
}

}  // namespace hardbase::cli
