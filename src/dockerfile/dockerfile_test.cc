#include "dockerfile/dockerfile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "support/result_matchers.h"

namespace hardbase::dockerfile {
namespace {

using ::hardbase::testing::FailsWith;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

using KV = std::pair<std::string, std::optional<std::string>>;

Dockerfile MustParse(std::string_view text) {
  auto parsed = Parse(text);
  EXPECT_TRUE(parsed) << "Parse failed: " << parsed.error().message << "\n--- text:\n" << text;
  if (!parsed) return {};
  return *parsed;
}

// Parse(Print(d)) == d, and printing is stable.
void ExpectRoundTrip(const Dockerfile& d) {
  std::string printed = Print(d);
  auto again = Parse(printed);
  ASSERT_TRUE(again) << again.error().message << "\n--- printed:\n" << printed;
  EXPECT_EQ(*again, d) << "--- printed:\n" << printed;
  EXPECT_EQ(Print(*again), printed);
}

// The single instruction after "FROM scratch\n".
Instruction One(std::string_view instruction) {
  Dockerfile d = MustParse("FROM scratch\n" + std::string(instruction));
  EXPECT_EQ(d.instructions.size(), 2u) << instruction;
  ExpectRoundTrip(d);
  return d.instructions.size() == 2 ? d.instructions[1] : Instruction{};
}

Flag F(std::string name, std::string value) { return Flag{std::move(name), std::move(value)}; }
Flag F(std::string name) { return Flag{std::move(name), "", false}; }

// ---- Directives -----------------------------------------------------------------------------

TEST(Directives, ReadAtTheTopOnly) {
  Dockerfile d = MustParse(
      "# syntax=docker/dockerfile:1\n"
      "#Escape = `\n"
      "#  check=skip=JSONArgsRecommended;error=true\n"
      "FROM scratch\n");
  ASSERT_EQ(d.directives.size(), 3u);
  EXPECT_EQ(d.directives[0], (Directive{"syntax", "docker/dockerfile:1"}));
  EXPECT_EQ(d.directives[1], (Directive{"escape", "`"}));
  EXPECT_EQ(d.directives[2], (Directive{"check", "skip=JSONArgsRecommended;error=true"}));
  EXPECT_EQ(d.escape, '`');
  EXPECT_THAT(d.instructions[0].comments, IsEmpty());
  ExpectRoundTrip(d);
}

TEST(Directives, AfterACommentOrBlankLineAreComments) {
  for (std::string_view text :
       {"# hello\n# escape=`\nFROM scratch\n", "\n# escape=`\nFROM scratch\n",
        "# unknown=x\n# escape=`\nFROM scratch\n", "FROM scratch\n# escape=`\nRUN x\n"}) {
    Dockerfile d = MustParse(text);
    EXPECT_THAT(d.directives, IsEmpty()) << text;
    EXPECT_EQ(d.escape, '\\') << text;
    ExpectRoundTrip(d);
  }
}

TEST(Directives, FirstCommentThatLooksLikeOneStaysAComment) {
  Dockerfile d = MustParse("\n# syntax=foo\n#   escape=x\nFROM scratch\n");
  EXPECT_THAT(d.directives, IsEmpty());
  EXPECT_THAT(d.instructions[0].comments, ElementsAre("syntax=foo", "  escape=x"));
  ExpectRoundTrip(d);
  EXPECT_THAT(Print(d), StartsWith("\n# syntax=foo\n"));
}

TEST(Directives, ValueRules) {
  Dockerfile d = MustParse("# syntax =  a = b  \nFROM scratch\n");
  ASSERT_EQ(d.directives.size(), 1u);
  EXPECT_EQ(d.directives[0].value, "a = b");
  // A byte-order mark before the first line is dropped.
  d = MustParse("\xEF\xBB\xBF# escape=`\nFROM scratch\n");
  EXPECT_EQ(d.escape, '`');
  // Elsewhere it is no space: an unknown instruction.
  EXPECT_THAT(Parse("FROM scratch\n\xEF\xBB\xBF\n"),
              FailsWith(ErrorCode::kSpec, StartsWith("line 2: unknown instruction")));
  // "# syntax=" has no value: a comment.
  d = MustParse("# syntax=\nFROM scratch\n");
  EXPECT_THAT(d.directives, IsEmpty());
}

TEST(Directives, Errors) {
  EXPECT_THAT(Parse("# syntax=a\n# SYNTAX=b\nFROM scratch\n"),
              FailsWith(ErrorCode::kSpec, StartsWith("line 2: only one syntax")));
  EXPECT_THAT(Parse("# escape=x\nFROM scratch\n"),
              FailsWith(ErrorCode::kSpec, StartsWith("line 1: invalid escape token")));
  EXPECT_THAT(Parse("# escape= \nFROM scratch\n"),
              FailsWith(ErrorCode::kSpec, StartsWith("line 1: invalid escape token")));
}

// ---- Comments, blank lines, continuations ---------------------------------------------------

TEST(Lines, CommentsBelongToTheNextInstruction) {
  Dockerfile d = MustParse(
      "# about the image\n"
      "  #indented\n"
      "\n"
      "#\n"
      "FROM scratch\n"
      "RUN a \\\n"
      "  # dropped\n"
      "  b\n"
      "# the end\n");
  EXPECT_THAT(d.instructions[0].comments, ElementsAre("about the image", "indented", ""));
  EXPECT_EQ(d.instructions[1].text, "a   b");
  EXPECT_THAT(d.instructions[1].comments, IsEmpty());
  EXPECT_THAT(d.trailing_comments, ElementsAre("the end"));
  ExpectRoundTrip(d);
}

TEST(Lines, Continuations) {
  struct Case {
    std::string_view text;  // after "FROM scratch\n"
    std::string_view args;
    int end_line;
  };
  const Case cases[] = {
      {"RUN a \\\nb", "a b", 3},
      {"RUN a \\  \t\nb", "a b", 3},             // spaces after the escape character
      {"RUN a \\\r\nb\r\n", "a b", 3},           // CRLF
      {"RUN a \\\n\n   \n  b", "a   b", 5},      // empty continuation lines are skipped
      {"RUN a \\\n# c\n#d \\\nb", "a b", 5},     // comments inside are dropped
      {"RUN echo \\\\\nRUN b", "echo \\\\", 2},  // an escaped escape character
      {"RUN a \\", "a", 2},                      // continued at the end of the file
      {"RUN a \\\n \\\n b", "a   b", 4},         // a line of only the escape character
      {"   RUN   a  ", "a", 2},                  // leading and trailing space
      {"run\ta", "a", 2},                        // keywords in any case, tab separated
  };
  for (const Case& c : cases) {
    Dockerfile d = MustParse("FROM scratch\n" + std::string(c.text));
    ASSERT_EQ(d.instructions.size(), c.text.find("RUN b") != std::string_view::npos ? 3u : 2u)
        << c.text;
    EXPECT_EQ(d.instructions[1].keyword, "RUN");
    EXPECT_EQ(d.instructions[1].text, c.args) << c.text;
    EXPECT_EQ(d.instructions[1].line, 2) << c.text;
    EXPECT_EQ(d.instructions[1].end_line, c.end_line) << c.text;
    ExpectRoundTrip(d);
  }
}

TEST(Lines, BacktickEscape) {
  Dockerfile d = MustParse(
      "# escape=`\n"
      "FROM mcr.microsoft.com/windows/servercore\n"
      "COPY testfile.txt c:\\\n"
      "RUN dir c:\\ `\n"
      "    && echo `\"done`\"\n"
      "ENV A=x` y\n");
  ASSERT_EQ(d.instructions.size(), 4u);
  EXPECT_EQ(d.instructions[1].text, "testfile.txt c:\\");
  EXPECT_THAT(d.instructions[1].Words('`'), ElementsAre("testfile.txt", "c:\\"));
  EXPECT_EQ(d.instructions[2].text, "dir c:\\     && echo `\"done`\"");
  EXPECT_THAT(d.instructions[3].KeyValues('`'), ElementsAre(KV{"A", "x y"}));
  ExpectRoundTrip(d);
  EXPECT_THAT(Print(d), StartsWith("# escape=`\n\nFROM "));
}

// ---- Instructions ---------------------------------------------------------------------------

TEST(Instructions, From) {
  Dockerfile d = MustParse(
      "ARG BASE=debian:bookworm\n"
      "FROM --platform=$BUILDPLATFORM ${BASE} AS Build\n"
      "RUN make\n"
      "from build as final\n"
      "FROM scratch\n");
  ASSERT_EQ(d.instructions.size(), 5u);
  EXPECT_EQ(d.instructions[1].flags, std::vector<Flag>{F("platform", "$BUILDPLATFORM")});
  EXPECT_EQ(d.instructions[1].text, "${BASE} AS Build");
  auto stages = d.Stages();
  ASSERT_EQ(stages.size(), 3u);
  EXPECT_EQ(stages[0].from, 1u);
  EXPECT_EQ(stages[0].end, 3u);
  EXPECT_EQ(stages[0].base, "${BASE}");
  EXPECT_EQ(stages[0].name, "build");
  EXPECT_EQ(stages[0].platform, "$BUILDPLATFORM");
  EXPECT_EQ(stages[1].base, "build");
  EXPECT_EQ(stages[1].name, "final");
  EXPECT_EQ(stages[1].from, 3u);
  EXPECT_EQ(stages[1].end, 4u);
  EXPECT_EQ(stages[2].base, "scratch");
  EXPECT_EQ(stages[2].name, "");
  EXPECT_EQ(stages[2].end, 5u);
  ExpectRoundTrip(d);
}

TEST(Instructions, RunShellAndExecForm) {
  Instruction run =
      One("RUN --mount=type=cache,target=/root/.cache --network=none --security=insecure "
          "pip install -r requirements.txt");
  EXPECT_EQ(run.flags, (std::vector<Flag>{F("mount", "type=cache,target=/root/.cache"),
                                          F("network", "none"), F("security", "insecure")}));
  EXPECT_EQ(run.text, "pip install -r requirements.txt");
  EXPECT_FALSE(run.exec_form);
  EXPECT_EQ(run.FlagValue("network"), "none");
  EXPECT_EQ(run.FlagValue("device"), std::nullopt);

  run = One(R"(RUN [ "/bin/sh", "-c", "echo \"hi\" \u00e9" ])");
  EXPECT_TRUE(run.exec_form);
  EXPECT_THAT(run.exec_args, ElementsAre("/bin/sh", "-c", "echo \"hi\" \xC3\xA9"));
  EXPECT_THAT(run.Words(), ElementsAre("/bin/sh", "-c", "echo \"hi\" \xC3\xA9"));
  EXPECT_EQ(run.text, R"([ "/bin/sh", "-c", "echo \"hi\" \u00e9" ])");

  // Not valid JSON: shell form, as BuildKit.
  for (std::string_view text : {"RUN [\"a\",", "RUN [a]", "RUN [\"a\"] x", "RUN ['a']"}) {
    run = One(text);
    EXPECT_FALSE(run.exec_form) << text;
    EXPECT_EQ(run.text, text.substr(4));
  }
  // Invalid UTF-8 inside the strings reads as U+FFFD, as Go's decoder does.
  run = One("CMD [\"a\xff\"]");
  EXPECT_TRUE(run.exec_form);
  EXPECT_THAT(run.exec_args, ElementsAre("a\xEF\xBF\xBD"));
  EXPECT_TRUE(One("CMD []").exec_form);
  EXPECT_TRUE(One("ENTRYPOINT [\"/app\"]").exec_form);
  EXPECT_EQ(One("CMD").text, "");
}

TEST(Instructions, CopyAndAdd) {
  Instruction copy =
      One("COPY --from=build --chown=65532:65532 --chmod=0755 --link --parents --exclude=*.md "
          "--exclude=tmp/ src/ dst/ /app/");
  EXPECT_EQ(copy.flags, (std::vector<Flag>{F("from", "build"), F("chown", "65532:65532"),
                                           F("chmod", "0755"), F("link"), F("parents"),
                                           F("exclude", "*.md"), F("exclude", "tmp/")}));
  EXPECT_THAT(copy.Words(), ElementsAre("src/", "dst/", "/app/"));
  EXPECT_EQ(copy.FlagValue("exclude"), "*.md");
  EXPECT_EQ(copy.FlagValue("link"), "");

  copy = One("COPY [\"my file.txt\", \"/dst dir/\"]");
  EXPECT_TRUE(copy.exec_form);
  EXPECT_THAT(copy.Words(), ElementsAre("my file.txt", "/dst dir/"));

  Instruction add =
      One("ADD --keep-git-dir=true --checksum=sha256:abc --unpack=false --link=FALSE "
          "https://example.com/x.tar.gz /x");
  EXPECT_EQ(add.flags.size(), 4u);
  EXPECT_THAT(add.Words(), ElementsAre("https://example.com/x.tar.gz", "/x"));
}

TEST(Instructions, EnvLabelArg) {
  Instruction env = One(R"(ENV A=1 B="two words" C='it''s' D=x\ y E= "F"=6)");
  EXPECT_THAT(env.KeyValues(), ElementsAre(KV{"A", "1"}, KV{"B", "two words"}, KV{"C", "its"},
                                           KV{"D", "x y"}, KV{"E", ""}, KV{"F", "6"}));
  env = One("ENV PATH  /usr/local/bin:$PATH  \"and more\"");
  EXPECT_THAT(env.KeyValues(), ElementsAre(KV{"PATH", "/usr/local/bin:$PATH  and more"}));
  env = One("ENV A=\"multi \\\n  line\"");
  EXPECT_THAT(env.KeyValues(), ElementsAre(KV{"A", "multi   line"}));

  Instruction label =
      One(R"(LABEL org.opencontainers.image.title="hello world" version=1.0 "quoted key"=v)");
  EXPECT_THAT(label.KeyValues(), ElementsAre(KV{"org.opencontainers.image.title", "hello world"},
                                             KV{"version", "1.0"}, KV{"quoted key", "v"}));
  label = One("LABEL maintainer someone@example.com");
  EXPECT_THAT(label.KeyValues(), ElementsAre(KV{"maintainer", "someone@example.com"}));

  Dockerfile d = MustParse("ARG A B=2 C=\"x y\"\nFROM scratch\nARG D\n");
  EXPECT_THAT(d.instructions[0].KeyValues(),
              ElementsAre(KV{"A", std::nullopt}, KV{"B", "2"}, KV{"C", "x y"}));
  EXPECT_THAT(d.instructions[2].KeyValues(), ElementsAre(KV{"D", std::nullopt}));
  ExpectRoundTrip(d);
}

TEST(Instructions, SingleArgumentOnes) {
  EXPECT_EQ(One("USER 65532:65532").Words(), (std::vector<std::string>{"65532:65532"}));
  EXPECT_EQ(One("WORKDIR \"/my app\"").Words(), (std::vector<std::string>{"/my app"}));
  EXPECT_EQ(One("STOPSIGNAL SIGTERM").text, "SIGTERM");
  EXPECT_EQ(One("MAINTAINER Jane Doe <jane@example.com>").text, "Jane Doe <jane@example.com>");
  EXPECT_THAT(One("EXPOSE 80/tcp 443 8000-8010/udp").Words(),
              ElementsAre("80/tcp", "443", "8000-8010/udp"));
}

TEST(Instructions, Volume) {
  EXPECT_THAT(One("VOLUME /data /var/log").Words(), ElementsAre("/data", "/var/log"));
  Instruction v = One("VOLUME [\"/data\", \"/var/my logs\"]");
  EXPECT_TRUE(v.exec_form);
  EXPECT_THAT(v.Words(), ElementsAre("/data", "/var/my logs"));
}

TEST(Instructions, Shell) {
  Instruction s = One(R"(SHELL ["powershell", "-command"])");
  EXPECT_TRUE(s.exec_form);
  EXPECT_THAT(s.exec_args, ElementsAre("powershell", "-command"));
}

TEST(Instructions, Healthcheck) {
  Instruction h =
      One("HEALTHCHECK --interval=30s --timeout=1m30s --start-period=5s --start-interval=500ms "
          "--retries=3 CMD curl -f http://localhost/ || exit 1");
  EXPECT_EQ(h.flags.size(), 5u);
  EXPECT_EQ(h.text, "CMD curl -f http://localhost/ || exit 1");
  ASSERT_EQ(h.nested.size(), 1u);
  EXPECT_EQ(h.nested[0].keyword, "CMD");
  EXPECT_EQ(h.nested[0].text, "curl -f http://localhost/ || exit 1");
  EXPECT_FALSE(h.nested[0].exec_form);

  h = One("HEALTHCHECK cmd [\"/healthcheck\", \"--quiet\"]");
  ASSERT_EQ(h.nested.size(), 1u);
  EXPECT_TRUE(h.nested[0].exec_form);
  EXPECT_THAT(h.nested[0].exec_args, ElementsAre("/healthcheck", "--quiet"));

  h = One("HEALTHCHECK NONE");
  EXPECT_THAT(h.nested, IsEmpty());
  EXPECT_EQ(h.text, "NONE");
  EXPECT_EQ(One("HEALTHCHECK --interval=0 --retries=+0 CMD true").flags.size(), 2u);
}

TEST(Instructions, Onbuild) {
  Instruction o = One("ONBUILD run --mount=type=secret,id=npm npm ci");
  EXPECT_EQ(o.text, "run --mount=type=secret,id=npm npm ci");
  ASSERT_EQ(o.nested.size(), 1u);
  EXPECT_EQ(o.nested[0].keyword, "RUN");
  EXPECT_EQ(o.nested[0].flags, std::vector<Flag>{F("mount", "type=secret,id=npm")});
  EXPECT_EQ(o.nested[0].text, "npm ci");

  o = One("ONBUILD COPY [\"a\", \"b\"]");
  ASSERT_EQ(o.nested.size(), 1u);
  EXPECT_TRUE(o.nested[0].exec_form);

  Dockerfile d = MustParse("FROM scratch\n\nONBUILD HEALTHCHECK CMD true\n");
  ASSERT_EQ(d.instructions[1].nested.size(), 1u);
  ASSERT_EQ(d.instructions[1].nested[0].nested.size(), 1u);
  EXPECT_EQ(d.instructions[1].nested[0].nested[0].line, 3);
  EXPECT_EQ(d.instructions[1].nested[0].nested[0].text, "true");
}

TEST(Instructions, FlagQuotingAndEscapes) {
  Instruction run = One(R"(RUN --mount="type=bind,target=/a b" --mount=type='cache' x)");
  EXPECT_EQ(run.flags,
            (std::vector<Flag>{F("mount", "type=bind,target=/a b"), F("mount", "type=cache")}));
  run = One(R"(RUN --mount=type=bind,target=a\ b\"c x)");
  EXPECT_EQ(run.flags, std::vector<Flag>{F("mount", "type=bind,target=a b\"c")});
  // "--" ends the flags; text that starts with "--" is printed after one.
  run = One("RUN -- --network=host");
  EXPECT_THAT(run.flags, IsEmpty());
  EXPECT_EQ(run.text, "--network=host");
  EXPECT_EQ(PrintInstruction(run), "RUN -- --network=host");
  run = One("RUN --network=host -- -- --");
  EXPECT_EQ(run.text, "-- --");
}

TEST(Instructions, WordsQuoting) {
  Instruction copy = One(R"(COPY "a b" 'c d' e\ f "g\"h" 'i\j' "k\l" $HOME /dst)");
  EXPECT_THAT(copy.Words(),
              ElementsAre("a b", "c d", "e f", "g\"h", "i\\j", "k\\l", "$HOME", "/dst"));
  Instruction user = One("USER \"\" x");
  EXPECT_THAT(user.Words(), ElementsAre("", "x"));
}

// ---- Heredocs -------------------------------------------------------------------------------

TEST(Heredocs, BuildKitCases) {
  struct Case {
    std::string_view text;
    std::vector<Heredoc> heredocs;
  };
  const std::vector<Case> cases = {
      {"RUN <<EMPTY\nEMPTY", {{"EMPTY", "", false, true}}},
      {"RUN 3<<EMPTY2\nEMPTY2", {{"EMPTY2", "", false, true}}},
      {"RUN \"<<NOHEREDOC\"", {}},
      {"RUN <<INDENT\n\tfoo\n\tbar\nINDENT", {{"INDENT", "\tfoo\n\tbar\n", false, true}}},
      {"RUN <<-UNINDENT\n\tbaz\n\tquux\nUNINDENT", {{"UNINDENT", "baz\nquux\n", true, true}}},
      {"RUN <<-UNINDENT2\n\tbaz\n\tquux\n\tUNINDENT2", {{"UNINDENT2", "baz\nquux\n", true, true}}},
      {"RUN <<-'NOEXPAND'\n\tdon't expand $NAME\nNOEXPAND",
       {{"NOEXPAND", "don't expand $NAME\n", true, false}}},
      {"RUN <<COMMENT\n# internal comment\necho hi # trailing\nCOMMENT",
       {{"COMMENT", "# internal comment\necho hi # trailing\n", false, true}}},
      {"RUN --mount=type=cache,target=/foo <<MOUNT\necho hello\nMOUNT",
       {{"MOUNT", "echo hello\n", false, true}}},
      {"COPY <<FILE1 <<FILE2 /dest\ncontent 1\nFILE1\ncontent 2\nFILE2",
       {{"FILE1", "content 1\n", false, true}, {"FILE2", "content 2\n", false, true}}},
      {"COPY <<X <<Y /dest\nY\nX\nX\nY", {{"X", "Y\n", false, true}, {"Y", "X\n", false, true}}},
      {"RUN <<COMPLEX python3\nprint('hello world')\nCOMPLEX",
       {{"COMPLEX", "print('hello world')\n", false, true}}},
      {"COPY <<file.txt /dest\nhello world\nfile.txt",
       {{"file.txt", "hello world\n", false, true}}},
      {"RUN <<eo'f'\necho foo\neof", {{"eof", "echo foo\n", false, false}}},
      {"RUN <<eo\\'f\necho foo\neo'f", {{"eo'f", "echo foo\n", false, true}}},
      {"RUN <<'e'o\\'f\necho foo\neo'f", {{"eo'f", "echo foo\n", false, false}}},
      {"RUN <<'one two'\necho bar\none two", {{"one two", "echo bar\n", false, false}}},
      {"RUN <<$EOF\n$EOF", {{"$EOF", "", false, true}}},
      {"RUN <<  EOF\nEOF", {{"EOF", "", false, true}}},
      {"RUN <<  EOF  > foo\nEOF", {{"EOF", "", false, true}}},
      {"RUN << -EOF\n-EOF", {{"-EOF", "", false, true}}},
      {"RUN <<EOF\r\na\r\n\r\nEOF\r\n", {{"EOF", "a\r\n\r\n", false, true}}},
      {"RUN [\"<<EOF\"]", {}},
      {"RUN echo '<<EOF'", {}},
      {"RUN echo 'unterminated <<EOF", {}},  // the shell lexer fails: no heredocs at all
      {"RUN echo ${ <<EOF", {}},
      {"USER <<INVALID", {}},
      {"RUN echo a<<EOF", {}},
  };
  for (const Case& c : cases) {
    Dockerfile d = MustParse("FROM scratch\n" + std::string(c.text) + "\nRUN next\n");
    ASSERT_EQ(d.instructions.size(), 3u) << c.text;
    EXPECT_EQ(d.instructions[1].heredocs, c.heredocs) << c.text;
    EXPECT_EQ(d.instructions[2].text, "next") << c.text;
    ExpectRoundTrip(d);
  }
}

TEST(Heredocs, LinesAndOnbuild) {
  Dockerfile d = MustParse(
      "FROM scratch\n"
      "RUN <<EOF bash \\\n"
      "  -e\n"
      "set -x\n"
      "EOF\n"
      "ONBUILD RUN <<-EOT\n"
      "\t\techo triggered\n"
      "\tEOT\n");
  ASSERT_EQ(d.instructions.size(), 3u);
  EXPECT_EQ(d.instructions[1].text, "<<EOF bash   -e");
  EXPECT_EQ(d.instructions[1].line, 2);
  EXPECT_EQ(d.instructions[1].end_line, 5);
  const Instruction& onbuild = d.instructions[2];
  EXPECT_THAT(onbuild.heredocs, IsEmpty());
  ASSERT_EQ(onbuild.nested.size(), 1u);
  EXPECT_EQ(onbuild.nested[0].heredocs,
            (std::vector<Heredoc>{{"EOT", "echo triggered\n", true, true}}));
  EXPECT_EQ(onbuild.end_line, 8);
  ExpectRoundTrip(d);
}

// ---- Errors ---------------------------------------------------------------------------------

TEST(Errors, NameTheLine) {
  struct Case {
    std::string_view text;
    std::string_view message;  // the start of it
  };
  const Case cases[] = {
      {"FROM scratch\nRUNN x\n", "line 2: unknown instruction \"RUNN\" (did you mean RUN?)"},
      {"FROM scratch\nFOO\n", "line 2: unknown instruction \"FOO\""},
      {"FROM scratch\nCOPY --form=x a b\n",
       "line 2: COPY: unknown flag \"--form\" (did you mean --from?)"},
      {"FROM scratch\nRUN --chown=1 x\n", "line 2: RUN: unknown flag \"--chown\""},
      {"FROM scratch\nCMD --x y\n", "line 2: CMD: unknown flag"},
      {"FROM scratch\nARG --x y\n", "line 2: ARG: unknown flag"},
      {"FROM scratch\nCOPY --from a b\n", "line 2: COPY: missing a value on flag"},
      {"FROM scratch\nCOPY --link= a b\n", "line 2: COPY: missing a value on flag"},
      {"FROM scratch\nCOPY --link=yes a b\n", "line 2: COPY: expecting a boolean value"},
      {"FROM scratch\nCOPY --from=a --from=b a b\n", "line 2: COPY: duplicate flag"},
      {"FROM scratch\nRUN --network=bridge x\n", "line 2: RUN: invalid network mode"},
      {"FROM scratch\nRUN --security=x x\n", "line 2: RUN: security \"x\" is not valid"},
      {"FROM scratch\nRUN --mount=type=bind,from=$X x\n", "line 2: RUN: --mount 'from'"},
      {"FROM scratch\n\nRUN <<EOF\nbody\n", "line 3: unterminated heredoc"},
      {"FROM scratch\nCOPY <<EOF <<EOF2 /d\nEOF\n", "line 2: unterminated heredoc"},
      {"FROM scratch\nCOPY a <<EOF\nEOF\n",
       "line 2: COPY cannot accept a heredoc as a destination"},
      {"FROM scratch\nCOPY a\n", "line 2: COPY requires at least two arguments"},
      {"FROM scratch\nADD\n", "line 2: ADD requires at least two arguments"},
      {"FROM scratch\nRUN [1, 2]\n", "line 2: RUN: when using JSON array syntax"},
      {"FROM scratch\nCMD [\"a\", [\"b\"]]\n", "line 2: CMD: when using JSON array syntax"},
      {"FROM scratch\nSHELL /bin/sh -c\n", "line 2: SHELL requires the arguments to be in JSON"},
      {"FROM scratch\nSHELL [\"/bin/sh\", \n",
       "line 2: SHELL requires the arguments to be in JSON"},
      {"FROM scratch\nSHELL []\n", "line 2: SHELL requires at least one argument"},
      {"RUN x\nFROM scratch\n", "line 1: RUN before the first FROM"},
      {"ARG A\n# c\nENV B=1\nFROM scratch\n", "line 3: ENV before the first FROM"},
      {"ARG A\n", "line 1: the Dockerfile has no FROM"},
      {"", "line 1: the Dockerfile has no instructions"},
      {"# only\n\n# comments\n", "line 3: the Dockerfile has no instructions"},
      {"FROM\n", "line 1: FROM requires either one or three arguments"},
      {"FROM a b\n", "line 1: FROM requires either one or three arguments"},
      {"FROM a AS b c\n", "line 1: FROM requires either one or three arguments"},
      {"FROM a AS 1st\n", "line 1: invalid name for build stage"},
      {"FROM a AS b$c\n", "line 1: invalid name for build stage"},
      {"FROM scratch\nENV\n", "line 2: ENV requires at least one argument"},
      {"FROM scratch\nENV A\n", "line 2: ENV must have two arguments"},
      {"FROM scratch\nENV A=1 B\n", "line 2: ENV: can't find = in \"B\""},
      {"FROM scratch\nLABEL =x\n", "line 2: LABEL names can not be blank"},
      {"FROM scratch\nARG =x\n", "line 2: ARG names can not be blank"},
      {"FROM scratch\nARG\n", "line 2: ARG requires at least one argument"},
      {"FROM scratch\nUSER\n", "line 2: USER requires exactly one argument"},
      {"FROM scratch\nWORKDIR \\\n\n", "line 2: WORKDIR requires exactly one argument"},
      {"FROM scratch\nEXPOSE\n", "line 2: EXPOSE requires at least one argument"},
      {"FROM scratch\nVOLUME []\n", "line 2: VOLUME requires at least one argument"},
      {"FROM scratch\nVOLUME [\"/a\", \" \"]\n", "line 2: VOLUME specified can not be an empty"},
      {"FROM scratch\nONBUILD\n", "line 2: ONBUILD requires at least one argument"},
      {"FROM scratch\nONBUILD ONBUILD RUN x\n", "line 2: chaining ONBUILD"},
      {"FROM scratch\nONBUILD FROM x\n", "line 2: FROM isn't allowed as an ONBUILD trigger"},
      {"FROM scratch\nONBUILD maintainer x\n", "line 2: MAINTAINER isn't allowed"},
      {"FROM scratch\nONBUILD BOGUS x\n", "line 2: unknown instruction \"BOGUS\""},
      {"FROM scratch\nHEALTHCHECK\n", "line 2: HEALTHCHECK requires at least one argument"},
      {"FROM scratch\nHEALTHCHECK NONE x\n", "line 2: HEALTHCHECK NONE takes no arguments"},
      {"FROM scratch\nHEALTHCHECK CMD\n", "line 2: HEALTHCHECK: missing command"},
      {"FROM scratch\nHEALTHCHECK CMD []\n", "line 2: HEALTHCHECK: missing command"},
      {"FROM scratch\nHEALTHCHECK RUN x\n", "line 2: HEALTHCHECK: unknown type \"RUN\""},
      {"FROM scratch\nHEALTHCHECK --interval=5 CMD x\n",
       "line 2: HEALTHCHECK: --interval: time: missing unit"},
      {"FROM scratch\nHEALTHCHECK --timeout=1us CMD x\n",
       "line 2: HEALTHCHECK: --timeout cannot be less than 1ms"},
      {"FROM scratch\nHEALTHCHECK --interval=-1s CMD x\n",
       "line 2: HEALTHCHECK: --interval cannot be less"},
      {"FROM scratch\nHEALTHCHECK --interval=3000000h CMD x\n",
       "line 2: HEALTHCHECK: --interval: time: invalid duration"},
      {"FROM scratch\nHEALTHCHECK --retries=-1 CMD x\n",
       "line 2: HEALTHCHECK: --retries cannot be negative"},
      {"FROM scratch\nHEALTHCHECK --retries=2147483648 CMD x\n",
       "line 2: HEALTHCHECK: --retries \"2147483648\" is out of range"},
      {"FROM scratch\nHEALTHCHECK --retries=x CMD x\n",
       "line 2: HEALTHCHECK: --retries \"x\" is not a number"},
      {"FROM scratch\nHEALTHCHECK --foo=1 CMD x\n", "line 2: HEALTHCHECK: unknown flag"},
      {"FROM scratch\nRUN a \\\n  b \\\n  c\nBAD\n", "line 5: unknown instruction"},
      {"FROM scratch\r\nRUN <<EOF\r\n", "line 2: unterminated heredoc"},
  };
  for (const Case& c : cases) {
    EXPECT_THAT(Parse(c.text), FailsWith(ErrorCode::kSpec, StartsWith(std::string(c.message))))
        << c.text;
  }
}

TEST(Errors, ShowUntrustedTextSafely) {
  auto parsed = Parse("FROM scratch\n\x1b[31mRUN" + std::string(500, 'x') + " y\n");
  ASSERT_FALSE(parsed);
  EXPECT_THAT(parsed.error().message, HasSubstr("\\x1b[31m"));
  EXPECT_LT(parsed.error().message.size(), 200u);
  EXPECT_EQ(parsed.error().message.find('\x1b'), std::string::npos);
}

TEST(Errors, Limits) {
  std::string big = "FROM scratch\n" + std::string(kMaxDockerfileBytes, '#');
  EXPECT_THAT(Parse(big),
              FailsWith(ErrorCode::kSpec, StartsWith("line 2: the Dockerfile is larger")));
  std::string long_line = "FROM scratch\nRUN " + std::string(kMaxLineBytes, 'x') + "\n";
  EXPECT_THAT(Parse(long_line), FailsWith(ErrorCode::kSpec, StartsWith("line 2: line longer")));
  // Joined continuation lines count as one line: Print would write them as one.
  std::string joined = "FROM scratch\nRUN ";
  for (int i = 0; i < 3000; ++i) joined += std::string(400, 'x') + "\\\n";
  joined += "end\n";
  EXPECT_THAT(Parse(joined), FailsWith(ErrorCode::kSpec, StartsWith("line 2: instruction longer")));
  // Just within: a line of exactly the limit.
  std::string at_limit = "FROM scratch\nRUN " + std::string(kMaxLineBytes - 4, 'x') + "\n";
  EXPECT_TRUE(Parse(at_limit));
  // Canonical form larger than the input ("#x" becomes "# x"): refused rather than printed into
  // something Parse would refuse.
  std::string comments = "FROM scratch\n";
  while (comments.size() + 3 <= kMaxDockerfileBytes) comments += "#x\n";
  EXPECT_THAT(Parse(comments), FailsWith(ErrorCode::kSpec, HasSubstr("larger than 4 MiB")));
}

// ---- Hostile input takes linear time ---------------------------------------------------------

template <class F>
double Seconds(F f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(Hostile, BoundedWork) {
  std::vector<std::string> inputs;
  // Many continuation lines.
  std::string many = "FROM scratch\nRUN a";
  while (many.size() < 900'000) many += " \\\n b";
  inputs.push_back(many + "\n");
  // Many empty continuation and comment lines.
  many = "FROM scratch\nRUN a \\\n";
  while (many.size() < 3'000'000) many += "\n# c\n";
  inputs.push_back(many + "b\n");
  // A long line of quotes, escapes, heredoc markers and variables.
  std::string line = "FROM scratch\nRUN ";
  while (line.size() < 900'000) line += "\"<<a\" '$b' ${c:-<<d} \\\" ";
  inputs.push_back(line + "\n");
  // Nested ${ ... } deeper than the shell lexer follows.
  line = "FROM scratch\nRUN <<EOF ";
  for (int i = 0; i < 100'000; ++i) line += "${a:-";
  inputs.push_back(line + "\nEOF\n");
  // Deeply nested JSON.
  inputs.push_back("FROM scratch\nCMD " + std::string(900'000, '[') + "\n");
  // Many heredocs.
  line = "FROM scratch\nCOPY";
  for (int i = 0; i < 50'000; ++i) line += " <<E";
  line += " /d\n";
  for (int i = 0; i < 50'000; ++i) line += "E\n";
  inputs.push_back(line);
  // Many flags and words.
  line = "FROM scratch\nCOPY";
  while (line.size() < 900'000) line += " --exclude=\"a b\"";
  inputs.push_back(line + " a b\n");
  line = "FROM scratch\nENV";
  while (line.size() < 900'000) line += " a=\"b c\"";
  inputs.push_back(line + "\n");

  for (const std::string& input : inputs) {
    double seconds = Seconds([&] {
      auto parsed = Parse(input);
      if (parsed) {
        std::string printed = Print(*parsed);
        auto again = Parse(printed);
        ASSERT_TRUE(again);
        EXPECT_EQ(*again, *parsed);
        for (const auto& inst : parsed->instructions) {
          inst.Words();
          inst.KeyValues();
        }
      }
    });
    EXPECT_LT(seconds, 10.0) << input.substr(0, 60);  // quadratic work would take hours
  }
}

// ---- Round trips of what needs care in printing ----------------------------------------------

TEST(Print, Canonical) {
  Dockerfile d = MustParse(
      "# syntax=docker/dockerfile:1\n"
      "ARG V=1\n"
      "# base\n"
      "from   debian:bookworm   AS   build\n"
      "run --mount=type=cache,target=/x \\\n"
      "    apt-get update && \\\n"
      "    apt-get install -y curl\n"
      "COPY <<EOF /etc/x\n"
      "hello\n"
      "EOF\n"
      "FROM scratch\n"
      "COPY --from=build /x /x\n"
      "# done\n");
  EXPECT_EQ(Print(d),
            "# syntax=docker/dockerfile:1\n"
            "\n"
            "ARG V=1\n"
            "\n"
            "# base\n"
            "FROM debian:bookworm   AS   build\n"
            "RUN --mount=type=cache,target=/x apt-get update &&     apt-get install -y curl\n"
            "COPY <<EOF /etc/x\n"
            "hello\n"
            "EOF\n"
            "\n"
            "FROM scratch\n"
            "COPY --from=build /x /x\n"
            "# done\n");
  ExpectRoundTrip(d);
}

TEST(Print, TrickyText) {
  const std::string_view cases[] = {
      "RUN # not a comment",
      "RUN echo \\",              // continued at the end of the file: the escape is dropped
      "RUN echo \\\xC2\xA0",      // ends with an escape character, then a non-ASCII space
      "RUN echo \\\v\nRUN next",  // ... a vertical tab
      "RUN echo \\\\",            // an escaped escape character
      "RUN -- \xA0x",             // a byte the flag reader skips as a space
      "RUN -- \x85--x",
      "RUN --mount=\"a b\" --mount=a\\\"b --mount='c\\d' x",
      "RUN --mount=\"a\xA0"
      "b\" x",
      "RUN \"--not-a-flag\"",
      "ENV A=\"\\\n   x\"",
      "ONBUILD RUN -- --x",
      "HEALTHCHECK CMD \xC2\xA0x",
      "RUN a\rb",  // a carriage return inside a line
      "COPY <<EOF /x\n\tbody\r\nEOF",
      "COPY <<-EOF /x\n\t\tbody\n\t\tEOF",
      "RUN <<\"EOF\" <<'E2'\n$x\nEOF\n$y\nE2",
      "LABEL a=\"x # y\"",
  };
  for (std::string_view text : cases) {
    Dockerfile d = MustParse("FROM scratch\n" + std::string(text) + "\n");
    ExpectRoundTrip(d);
  }
  Dockerfile d = MustParse("FROM scratch\nRUN echo \\\xC2\xA0\n");
  EXPECT_EQ(d.instructions[1].text, "echo \\");
  d = MustParse("FROM scratch\nRUN -- \xA0x\n");
  EXPECT_EQ(d.instructions[1].text, "\xA0x");
  d = MustParse(
      "FROM scratch\nRUN --mount=\"a\xA0"
      "b\" x\n");
  EXPECT_EQ(d.instructions[1].flags, std::vector<Flag>{F("mount",
                                                         "a\xA0"
                                                         "b")});
}

TEST(Print, BacktickEscapeAndHandMadeTrees) {
  Dockerfile d = MustParse("# escape=`\nFROM scratch\nRUN --mount=\"a`\"b\\c\" x``\nRUN y `\n");
  EXPECT_EQ(d.instructions[1].flags, std::vector<Flag>{F("mount", "a\"b\\c")});
  EXPECT_EQ(d.instructions[1].text, "x``");
  EXPECT_EQ(d.instructions[2].text, "y");
  ExpectRoundTrip(d);
  // An escape character without its directive gets one.
  d.directives.clear();
  EXPECT_THAT(Print(d), StartsWith("# escape=`\n\n"));
  ExpectRoundTrip(MustParse(Print(d)));
}

}  // namespace
}  // namespace hardbase::dockerfile
