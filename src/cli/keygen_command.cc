// `hardbase keygen [--output-key-prefix NAME] [--force]`: a cosign key pair, NAME.key (encrypted
// as cosign encrypts it, mode 0600) and NAME.pub.
#include "base/fs.h"
#include "base/log.h"
#include "cli/command.h"

namespace hardbase::cli {
namespace {

struct KeygenFlags {
  std::string prefix = "cosign";
  bool force = false;
};

Result<int> RunKeygen(const KeygenFlags& flags) {
  std::string key_path = flags.prefix + ".key";
  std::string pub_path = flags.prefix + ".pub";
  for (const auto& path : {key_path, pub_path}) {
    if (!flags.force && PathExists(path)) {
      return Fail(ErrorCode::kUsage,
                  fmt::format("keygen: {} exists; pass --force to replace it", path));
    }
  }
  HB_TRY(std::string password, KeyPassword(true));
  HB_TRY(sign::PrivateKey key, sign::PrivateKey::Generate());
  HB_TRY(std::string encrypted, sign::EncryptPrivateKey(key, password));
  HB_TRY_VOID(WriteFileAtomic(key_path, encrypted, 0600));
  HB_TRY_VOID(WriteFileAtomic(pub_path, key.Public().Pem(), 0644));
  LogInfo("private key written to {}, public key to {}", key_path, pub_path);
  return 0;
}

}  // namespace

void AddKeygenCommand(CLI::App& app, CommandRunner& runner) {
  auto flags = std::make_shared<KeygenFlags>();
  CLI::App* cmd = app.add_subcommand(
      "keygen", "Make a cosign-compatible key pair (ECDSA P-256): NAME.key and NAME.pub");
  cmd->add_option("--output-key-prefix", flags->prefix, "File name prefix")->capture_default_str();
  cmd->add_flag("-f,--force", flags->force, "Replace existing key files");
  cmd->footer("The password comes from $COSIGN_PASSWORD, or is asked for on the terminal.");
  cmd->callback([&runner, flags] { runner = [flags] { return RunKeygen(*flags); }; });
}

}  // namespace hardbase::cli
