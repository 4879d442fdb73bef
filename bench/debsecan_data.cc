// debsecan_data SNAPSHOT SUITE DIR: writes Debian debsecan's vulnerability data file for SUITE
// ("bookworm") from the OSV records of an osv.dev snapshot zip, as DIR/SUITE, so that
// `debsecan --source file://DIR/ --suite SUITE` matches against the same records `hardbase scan`
// does after `hardbase vuln update --from SNAPSHOT`. Used by the benchmarks; the format is
// described in tests/support/debsecan.cc.
#include <cstdio>

#include "support/debsecan.h"

int main(int argc, char** argv) {
  using namespace hardbase;
  if (argc != 4) {
    std::fprintf(stderr, "usage: debsecan_data SNAPSHOT SUITE DIR\n");
    return 2;
  }
  auto release = testing::DebsecanRelease(argv[2]);
  auto written =
      !release ? Result<void>(Fail(ErrorCode::kUsage, std::string("unknown suite ") + argv[2]))
               : testing::ReadOsvEntries(argv[1], *release).and_then([&](const auto& entries) {
                   return testing::WriteDebsecanData(entries, argv[2], argv[3]);
                 });
  if (!written) {
    std::fprintf(stderr, "debsecan_data: %s\n", written.error().message.c_str());
    return 1;
  }
  return 0;
}
