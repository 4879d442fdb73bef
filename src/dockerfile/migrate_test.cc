#include "dockerfile/migrate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "base/fs.h"

namespace hardbase::dockerfile {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

const std::string kDigest = "@sha256:" + std::string(64, 'a');

// The catalog as a registry would answer: each image pinned, with its config's user and
// entrypoint. Records what was asked.
struct FakeCatalog {
  std::vector<ImageRequest> asked;
  ImageResolver Resolver() {
    return [this](const ImageRequest& r) -> Result<ResolvedImage> {
      asked.push_back(r);
      if (r.catalog == "broken") return Fail(ErrorCode::kNetwork, "registry down");
      ResolvedImage image{"reg.test/" + r.catalog + kDigest, "65532", {}};
      if (r.catalog == "nodejs") image.entrypoint = {"/usr/bin/node"};
      if (r.catalog == "python3") image.entrypoint = {"/usr/bin/python3"};
      if (r.catalog == "nginx") {
        image.user = "www-data";
        image.entrypoint = {"/usr/sbin/nginx"};
      }
      if (r.catalog.ends_with("-dev")) image.user = "";
      return image;
    };
  }
};

Migration MigrateOk(const std::string& text, FakeCatalog& catalog, MigrateOptions options = {}) {
  auto m = Migrate(text, options, catalog.Resolver());
  EXPECT_TRUE(m.has_value()) << m.error().message;
  if (!m) return {};
  for (const auto& r : m->refused) ADD_FAILURE() << "refused line " << r.line << ": " << r.message;
  return *m;
}

// The instructions of the final stage of `text`, as printed.
std::vector<std::string> FinalStage(const std::string& text) {
  auto df = Parse(text);
  EXPECT_TRUE(df.has_value()) << df.error().message << "\n" << text;
  if (!df) return {};
  auto stages = df->Stages();
  std::vector<std::string> out;
  for (size_t i = stages.back().from; i < stages.back().end; ++i) {
    out.push_back(PrintInstruction(df->instructions[i]));
  }
  return out;
}

TEST(MigrateTest, SingleStageNodeAppBecomesBuildAndRuntimeStages) {
  FakeCatalog catalog;
  Migration m = MigrateOk(R"(FROM node:20
WORKDIR /app
COPY package.json .
RUN npm install --omit=dev
COPY . .
EXPOSE 8080
CMD node server.js
)",
                          catalog);
  EXPECT_THAT(catalog.asked,
              ElementsAre(ImageRequest{"nodejs-dev", {}}, ImageRequest{"nodejs", {}}));
  EXPECT_THAT(m.after, HasSubstr("FROM reg.test/nodejs-dev" + kDigest + " AS app-build"));
  EXPECT_THAT(FinalStage(m.after),
              ElementsAre("FROM reg.test/nodejs" + kDigest, "COPY --from=app-build /app /app",
                          "WORKDIR /app", "EXPOSE 8080", "USER 65532",
                          R"(ENTRYPOINT ["node","server.js"])"));
  EXPECT_EQ(m.runtime, "nodejs");
  EXPECT_THAT(m.changes, Contains(::testing::Field(&MigrationNote::kind, "exec-form")));
  EXPECT_THAT(m.changes, Contains(::testing::Field(&MigrationNote::kind, "entrypoint")));
}

TEST(MigrateTest, AptInstallOfTheFinalStageGoesIntoTheRuntimeSpec) {
  FakeCatalog catalog;
  Migration m = MigrateOk(R"(FROM python:3.11-slim
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-jinja2 python3-yaml=6.0-3 \
 && rm -rf /var/lib/apt/lists/*
COPY app.py /srv/app.py
USER root
CMD ["python3", "/srv/app.py"]
)",
                          catalog);
  EXPECT_THAT(m.runtime_packages, ElementsAre("python3-jinja2", "python3-yaml"));
  EXPECT_THAT(catalog.asked, Contains(ImageRequest{"python3", {"python3-jinja2", "python3-yaml"}}));
  EXPECT_THAT(FinalStage(m.after),
              ElementsAre("FROM reg.test/python3" + kDigest,
                          "COPY --from=app-build /srv/app.py /srv/app.py", "USER 65532",
                          R"(ENTRYPOINT ["python3","/srv/app.py"])"));
  EXPECT_THAT(m.changes, Contains(AllOf(::testing::Field(&MigrationNote::kind, "user"),
                                        ::testing::Field(&MigrationNote::line, 6))));
  EXPECT_THAT(m.changes, Contains(AllOf(::testing::Field(&MigrationNote::kind, "packages"),
                                        ::testing::Field(&MigrationNote::line, 2))));
}

TEST(MigrateTest, PackageNamesTakeTheStagesVariables) {
  FakeCatalog catalog;
  Migration m = MigrateOk(R"(FROM debian:bookworm-slim
ENV PG_MAJOR 15
ARG CLIENT=postgresql-client
RUN apt-get update && apt-get install -y "postgresql-$PG_MAJOR" ${CLIENT}-${PG_MAJOR}
COPY app /usr/local/bin/app
ENTRYPOINT ["app"]
)",
                          catalog);
  EXPECT_THAT(m.runtime_packages, ElementsAre("postgresql-15", "postgresql-client-15"));
  auto refused =
      Migrate("FROM debian:bookworm\nRUN apt-get install -y $DEPS\n", {}, catalog.Resolver());
  ASSERT_TRUE(refused.has_value());
  ASSERT_EQ(refused->refused.size(), 1u);
  EXPECT_THAT(refused->refused[0].message, HasSubstr("$DEPS"));
}

TEST(MigrateTest, FinalStageWithoutRunMovesOntoTheRuntimeWithItsPathsAndPorts) {
  FakeCatalog catalog;
  Migration m = MigrateOk(R"(FROM nginx:1.25
# the site
COPY site/ /usr/share/nginx/html/
EXPOSE 80
HEALTHCHECK --interval=30s CMD curl -f http://localhost/ || exit 1
)",
                          catalog);
  EXPECT_THAT(catalog.asked, ElementsAre(ImageRequest{"nginx", {}}));
  auto final_stage = FinalStage(m.after);
  EXPECT_THAT(final_stage, ElementsAre("FROM reg.test/nginx" + kDigest, "COPY site/ /var/www/html/",
                                       "EXPOSE 8080", "USER www-data"));
  EXPECT_THAT(m.after, HasSubstr("# HEALTHCHECK CMD curl -f http://localhost/ || exit 1"));
  EXPECT_THAT(m.changes, Contains(AllOf(::testing::Field(&MigrationNote::kind, "healthcheck"),
                                        ::testing::Field(&MigrationNote::line, 5))));
  EXPECT_THAT(m.after, HasSubstr("# the site"));
}

TEST(MigrateTest, MultiStageGoBuildKeepsItsStagesAndPinsBoth) {
  FakeCatalog catalog;
  Migration m = MigrateOk(R"(# syntax=docker/dockerfile:1
ARG GO_VERSION=1.21
FROM golang:${GO_VERSION} AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -o /out/app .
FROM gcr.io/distroless/static-debian12
COPY --from=build /out/app /app
USER 1000:1000
ENTRYPOINT ["/app"]
)",
                          catalog);
  EXPECT_THAT(catalog.asked, ElementsAre(ImageRequest{"go-dev", {}}, ImageRequest{"static", {}}));
  EXPECT_THAT(m.after, HasSubstr("# syntax=docker/dockerfile:1"));
  EXPECT_THAT(m.after, HasSubstr("FROM reg.test/go-dev" + kDigest + " AS build"));
  EXPECT_THAT(FinalStage(m.after),
              ElementsAre("FROM reg.test/static" + kDigest, "COPY --from=build /out/app /app",
                          "USER 1000:1000", R"(ENTRYPOINT ["/app"])"));
}

TEST(MigrateTest, ForeignPackageManagersAndShellCommandsAreRefusedWithTheirLines) {
  FakeCatalog catalog;
  auto m = Migrate(R"(FROM alpine:3.19
RUN apk add --no-cache ca-certificates
COPY app /app
CMD /app > /tmp/log 2>&1
)",
                   {}, catalog.Resolver());
  ASSERT_TRUE(m.has_value()) << m.error().message;
  EXPECT_THAT(m->after, IsEmpty());
  EXPECT_THAT(catalog.asked, IsEmpty());
  ASSERT_EQ(m->refused.size(), 2u);
  EXPECT_EQ(m->refused[0].line, 2);
  EXPECT_THAT(m->refused[0].message, HasSubstr("apk"));
  EXPECT_EQ(m->refused[1].line, 4);
  EXPECT_THAT(m->refused[1].message, HasSubstr("needs a shell"));
}

TEST(MigrateTest, UnknownBaseImagesAreRefusedForTheFinalStageOnly) {
  FakeCatalog catalog;
  auto m = Migrate(
      "FROM example.com/tools:1 AS tools\nRUN make\nFROM mcr.microsoft.com/dotnet/"
      "aspnet:8.0\nCOPY --from=tools /out /app\n",
      {}, catalog.Resolver());
  ASSERT_TRUE(m.has_value());
  ASSERT_EQ(m->refused.size(), 1u);
  EXPECT_EQ(m->refused[0].line, 3);
  EXPECT_THAT(m->refused[0].message, HasSubstr("no hardened image matches"));

  auto arg = Migrate("ARG BASE\nFROM ${BASE}\n", {}, catalog.Resolver());
  ASSERT_TRUE(arg.has_value());
  ASSERT_EQ(arg->refused.size(), 1u);
  EXPECT_EQ(arg->refused[0].line, 2);

  MigrateOptions mapped;
  mapped.overrides.push_back(*ParseBaseImageOverride("mcr.microsoft.com/dotnet/aspnet=cc"));
  Migration ok = MigrateOk(
      "FROM example.com/tools:1 AS tools\nRUN make\nFROM mcr.microsoft.com/"
      "dotnet/aspnet:8.0\nCOPY --from=tools /out /app\n",
      catalog, mapped);
  EXPECT_THAT(ok.after, HasSubstr("FROM example.com/tools:1 AS tools"));
  EXPECT_THAT(ok.changes, Contains(AllOf(::testing::Field(&MigrationNote::kind, "warning"),
                                         ::testing::Field(&MigrationNote::line, 1))));
}

TEST(MigrateTest, AccountsOnlyTheReplacedImageHadLeaveTheBuildStage) {
  FakeCatalog catalog;
  Migration m = MigrateOk(R"(FROM node:20-slim
WORKDIR /home/node/app
COPY --chown=node:node package*.json ./
USER node
RUN npm ci
COPY --chown=node:node . .
CMD ["node", "index.js"]
)",
                          catalog);
  EXPECT_THAT(m.after, Not(HasSubstr("--chown=node")));
  EXPECT_THAT(m.after, Not(HasSubstr("USER node")));
  EXPECT_THAT(FinalStage(m.after), Contains("USER 65532"));
  EXPECT_THAT(FinalStage(m.after), Contains("COPY --from=app-build /home/node/app /home/node/app"));
}

TEST(MigrateTest, ResolverErrorsStopTheMigration) {
  FakeCatalog catalog;
  MigrateOptions options;
  options.overrides.push_back(*ParseBaseImageOverride("busybox=broken"));
  auto m = Migrate("FROM busybox\nCOPY a /a\n", options, catalog.Resolver());
  ASSERT_FALSE(m.has_value());
  EXPECT_EQ(m.error().code, ErrorCode::kNetwork);
  EXPECT_FALSE(ParseBaseImageOverride("node:20").has_value());
}

TEST(MigrateTest, ExecWordsTakesWhatAProgramCanBeStartedWith) {
  EXPECT_THAT(*ExecWords("node server.js"), ElementsAre("node", "server.js"));
  EXPECT_THAT(*ExecWords("exec java -jar 'my app.jar'"), ElementsAre("java", "-jar", "my app.jar"));
  EXPECT_THAT(*ExecWords(R"x(python3 -c "print(1)")x"), ElementsAre("python3", "-c", "print(1)"));
  for (const char* shell : {"node $APP", "a && b", "a | b", "a > f", "ls *.js", "~/bin/x", "a; b",
                            "echo `id`", "x # comment", "", "exec", "\"open"}) {
    EXPECT_FALSE(ExecWords(shell).has_value()) << shell;
  }
}

TEST(MigrateTest, BaseImageTableNormalisesRegistriesTagsAndDigests) {
  EXPECT_EQ(MatchBaseImage("docker.io/library/python:3.11-slim")->runtime, "python3");
  EXPECT_EQ(MatchBaseImage("node:20@sha256:" + std::string(64, 'b'))->dev, "nodejs-dev");
  EXPECT_EQ(MatchBaseImage("eclipse-temurin:17-jre")->runtime, "java17");
  EXPECT_EQ(MatchBaseImage("eclipse-temurin:21-jre")->runtime, "");
  EXPECT_THAT(MatchBaseImage("debian:trixie-slim")->note, HasSubstr("bookworm"));
  EXPECT_EQ(MatchBaseImage("gcr.io/distroless/java17-debian12:nonroot")->runtime, "java17");
  EXPECT_EQ(MatchBaseImage("localhost:5000/debian:bookworm"), std::nullopt);
  EXPECT_EQ(MatchBaseImage("debian:bookworm-slim")->runtime, "cc");
  EXPECT_EQ(MatchBaseImage("debian:bullseye")->runtime, "");
  EXPECT_FALSE(MatchBaseImage("example.com/debian:bookworm").has_value());
}

// Every Dockerfile of the corpus either migrates into a Dockerfile that parses, whose final stage
// is pinned by digest, runs nothing, and sets a non-root USER, or is refused with lines.
TEST(MigrateTest, CorpusMigratesOrIsRefusedWithALine) {
  const std::string dir = std::string(HARDBASE_SOURCE_DIR) + "/src/dockerfile/testdata/corpus";
  int migrated = 0, refused = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".Dockerfile") continue;
    SCOPED_TRACE(entry.path().filename().string());
    auto text = ReadFile(entry.path().string());
    ASSERT_TRUE(text.has_value());
    FakeCatalog catalog;
    auto m = Migrate(*text, {}, catalog.Resolver());
    ASSERT_TRUE(m.has_value()) << m.error().message;
    if (!m->refused.empty()) {
      ++refused;
      EXPECT_THAT(m->after, IsEmpty());
      for (const auto& r : m->refused) {
        EXPECT_GT(r.line, 0) << r.message;
        EXPECT_FALSE(r.message.empty());
      }
      continue;
    }
    ++migrated;
    auto final_stage = FinalStage(m->after);
    ASSERT_FALSE(final_stage.empty()) << m->after;
    if (m->runtime.empty()) continue;  // FROM scratch
    EXPECT_THAT(final_stage.front(), HasSubstr("@sha256:"));
    bool user = false;
    for (const auto& line : final_stage) {
      EXPECT_FALSE(line.starts_with("RUN ")) << m->after;
      if (line.starts_with("USER ")) user = line != "USER root" && line != "USER 0";
    }
    EXPECT_TRUE(user) << m->after;
  }
  std::printf("corpus: %d migrated, %d refused\n", migrated, refused);
  EXPECT_GT(migrated, 0);
}

// The README documents the table: a row per rule, with its image, tags and the two images.
TEST(MigrateTest, ReadmeDocumentsEveryRowOfTheBaseImageTable) {
  auto readme = ReadFile(std::string(HARDBASE_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(readme.has_value());
  for (const auto& rule : BaseImageTable()) {
    std::string tags(rule.tags);
    for (size_t p = 0; (p = tags.find('|', p)) != std::string::npos;) tags.replace(p, 1, ", ");
    std::string row = "| `" + std::string(rule.repository) + "` | " +
                      (tags.empty() ? "any" : tags) + " | " +
                      (rule.runtime.empty() ? "(none)" : std::string(rule.runtime)) + " | " +
                      (rule.dev.empty() ? "(none)" : std::string(rule.dev)) + " |";
    EXPECT_TRUE(readme->find(row) != std::string::npos) << "README.md has no row " << row;
  }
}

}  // namespace
}  // namespace hardbase::dockerfile
