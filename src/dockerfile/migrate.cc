#include "dockerfile/migrate.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <set>

#include "base/printable.h"
#include "base/strings.h"

namespace hardbase::dockerfile {
namespace {

// ---- shell words -------------------------------------------------------------------------------

// A shell command split into words as sh would (quotes and backslashes removed), and whether it
// holds anything only a shell does (expansions, operators, globs, comments).
struct ShellWords {
  std::vector<std::string> words;
  bool needs_shell = false;
};

ShellWords SplitShell(std::string_view s) {
  ShellWords out;
  std::string word;
  bool in_word = false;
  auto end_word = [&] {
    if (in_word) out.words.push_back(std::move(word));
    word.clear();
    in_word = false;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      end_word();
    } else if (c == '\'') {
      size_t close = s.find('\'', i + 1);
      if (close == std::string_view::npos) return {{}, true};
      word.append(s.substr(i + 1, close - i - 1));
      in_word = true;
      i = close;
    } else if (c == '"') {
      in_word = true;
      for (++i; i < s.size() && s[i] != '"'; ++i) {
        if (s[i] == '$' || s[i] == '`') out.needs_shell = true;
        if (s[i] == '\\' && i + 1 < s.size() &&
            std::string_view("$`\"\\").find(s[i + 1]) != std::string_view::npos) {
          ++i;
        }
        word.push_back(s[i]);
      }
      if (i >= s.size()) return {{}, true};
    } else if (c == '\\') {
      if (i + 1 < s.size()) word.push_back(s[++i]);
      in_word = true;
    } else {
      if (std::string_view("$`|&;<>()*?[]{}\n").find(c) != std::string_view::npos ||
          ((c == '#' || c == '~') && !in_word)) {
        out.needs_shell = true;
      }
      word.push_back(c);
      in_word = true;
    }
  }
  end_word();
  return out;
}

// The simple commands of a shell text: split at unquoted newlines, `;`, `&`, `&&`, `||`, `|`
// (quotes and backslash-newline respected). Enough to find package installs in RUN lines.
std::vector<std::string> SplitCommands(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    if (!Trim(cur).empty()) out.emplace_back(Trim(cur));
    cur.clear();
  };
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\'' || c == '"') {
      size_t close = s.find(c, i + 1);
      if (close == std::string_view::npos) close = s.size() - 1;
      cur.append(s.substr(i, close - i + 1));
      i = close;
    } else if (c == '\\' && i + 1 < s.size()) {
      if (s[i + 1] != '\n') cur.append(s.substr(i, 2));
      ++i;
    } else if (c == '\n' || c == ';' || c == '&' || c == '|') {
      flush();
    } else {
      cur.push_back(c);
    }
  }
  flush();
  return out;
}

// What one simple command of a RUN line does, as far as migrating goes.
struct CommandKind {
  enum { kOther, kAptInstall, kAptHousekeeping, kForeignInstall, kDebFile } kind = kOther;
  std::vector<std::string> packages;
  std::string program;
};

CommandKind Classify(const std::vector<std::string>& all) {
  CommandKind k;
  size_t i = 0;
  while (i < all.size() && (all[i].find('=') != std::string::npos || all[i] == "sudo" ||
                            all[i] == "env" || all[i] == "-E")) {
    ++i;
  }
  if (i >= all.size()) return k;
  std::string_view program = all[i];
  if (size_t slash = program.rfind('/'); slash != std::string_view::npos) {
    program.remove_prefix(slash + 1);
  }
  k.program = std::string(program);
  if (program == "apt-get" || program == "apt" || program == "aptitude") {
    std::string sub;
    for (++i; i < all.size(); ++i) {
      const std::string& w = all[i];
      if (w == "-o" || w == "-t" || w == "-c" || w == "--target-release" || w == "--option") {
        ++i;  // its argument
      } else if (!w.starts_with("-")) {
        if (sub.empty()) {
          sub = w;
        } else if (sub == "install") {
          k.packages.push_back(w);
        }
      }
    }
    k.kind = sub == "install" && !k.packages.empty() ? CommandKind::kAptInstall
                                                     : CommandKind::kAptHousekeeping;
    return k;
  }
  if (program == "apk" || program == "yum" || program == "dnf" || program == "microdnf" ||
      program == "zypper" || program == "rpm" || program == "tdnf") {
    k.kind = CommandKind::kForeignInstall;
    return k;
  }
  if (program == "dpkg" && std::find(all.begin(), all.end(), "-i") != all.end()) {
    k.kind = CommandKind::kDebFile;
    return k;
  }
  if (program == "rm" || program == "apt-mark" || program == "debconf-set-selections") {
    bool apt_paths = program != "rm";
    for (size_t j = i + 1; j < all.size(); ++j) {
      if (all[j].starts_with("-")) continue;
      apt_paths = all[j].starts_with("/var/lib/apt/lists") || all[j].starts_with("/var/cache/apt");
      if (!apt_paths) break;
    }
    if (apt_paths) k.kind = CommandKind::kAptHousekeeping;
  }
  return k;
}

// Where a build command puts what it makes, as far as its words say: a compiler's or linker's
// `-o FILE`, javac's `-d DIR`, jar's `--file FILE`, the destination of cp, mv and install, and
// /usr/local for `make install`, `npm install -g` and pip installs outside a venv. What other
// commands write is not known; MIGRATION.md says so.
std::vector<std::string> RunOutputs(const std::vector<std::string>& words) {
  CommandKind k = Classify(words);
  const std::string& p = k.program;
  std::vector<std::string> out;
  auto after = [&](std::initializer_list<std::string_view> flags) {
    for (size_t i = 0; i + 1 < words.size(); ++i) {
      for (auto f : flags) {
        if (words[i] == f) out.push_back(words[i + 1]);
      }
    }
    for (const auto& w : words) {
      for (auto f : flags) {
        if (f.starts_with("--") && w.starts_with(std::string(f) + "=")) {
          out.push_back(w.substr(f.size() + 1));
        }
      }
    }
  };
  bool has = false;
  auto contains = [&](std::string_view w) {
    return std::find(words.begin(), words.end(), w) != words.end();
  };
  if (p == "gcc" || p == "g++" || p == "cc" || p == "c++" || p == "clang" || p == "clang++" ||
      p == "go" || p == "rustc" || p == "ld" || p == "gfortran" || p == "cargo") {
    after({"-o", "--output"});
  } else if (p == "javac") {
    after({"-d"});
  } else if (p == "jar") {
    after({"--file", "-f"});
  } else if (p == "cp" || p == "mv" || p == "install" || p == "ln") {
    std::vector<std::string> args;
    for (size_t i = 1; i < words.size(); ++i) {
      if (!words[i].starts_with("-")) args.push_back(words[i]);
    }
    if (args.size() >= 2 && p != "ln") out.push_back(args.back());
  } else if ((p == "make" && contains("install")) ||
             ((p == "npm" || p == "yarn") && (contains("-g") || contains("--global"))) ||
             ((p == "pip" || p == "pip3") && contains("install") && !contains("--target") &&
              !contains("--prefix")) ||
             (p == "cmake" && contains("--install"))) {
    has = true;
  }
  if (has) out.push_back("/usr/local");
  return out;
}

// The simple commands of a RUN instruction, heredoc bodies included.
std::vector<std::vector<std::string>> RunCommands(const Instruction& run) {
  std::vector<std::vector<std::string>> out;
  if (run.exec_form) {
    out.push_back(run.exec_args);
    return out;
  }
  std::vector<std::string> texts{run.text};
  for (const auto& h : run.heredocs) texts.push_back(h.body);
  for (const auto& text : texts) {
    for (const auto& command : SplitCommands(text)) {
      std::vector<std::string> words = SplitShell(command).words;
      if (!words.empty()) out.push_back(std::move(words));
    }
  }
  return out;
}

// ---- paths -------------------------------------------------------------------------------------

// `path` made absolute against the working directory `dir`, "." and ".." taken away.
std::string Absolute(const std::string& dir, std::string_view path) {
  std::string joined = path.starts_with("/") ? std::string(path) : dir + "/" + std::string(path);
  std::vector<std::string_view> parts;
  std::string_view rest = joined;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out;
  for (auto part : parts) out += "/" + std::string(part);
  return out.empty() ? "/" : out;
}

bool Under(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  return path == dir ||
         (path.starts_with(dir) && path.size() > dir.size() && path[dir.size()] == '/');
}

std::string MovePath(std::string path, const std::vector<PathMove>& moves) {
  for (const auto& m : moves) {
    if (Under(path, m.from)) return std::string(m.to) + path.substr(m.from.size());
  }
  return path;
}

// A word for a generated instruction's shell-form argument list: JSON form is used instead
// when any word has blanks or quotes.
bool NeedsJson(const std::vector<std::string>& words) {
  return std::any_of(words.begin(), words.end(), [](const std::string& w) {
    return w.empty() || w.find_first_of(" \t\"'\\$") != std::string::npos;
  });
}

// A JSON array of `words`; callers check that they are UTF-8 (Migrator::Utf8) first, the
// replacement of invalid bytes only keeps a hostile input from throwing.
std::string JsonArray(const std::vector<std::string>& words) {
  return nlohmann::json(words).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- the migration -----------------------------------------------------------------------------

struct StageInfo {
  Stage stage;
  std::string base;              // FROM's image with the global ARGs' defaults put in
  bool expanded = true;          // every variable had a default
  std::optional<size_t> parent;  // the earlier stage it builds on
  std::optional<BaseImageMatch> match;
};

class Migrator {
 public:
  Migrator(const Dockerfile& df, const MigrateOptions& options) : df_(df), options_(options) {}

  Result<Migration> Run(std::string_view text, const ImageResolver& resolve) {
    m_.before = std::string(text);
    ReadStages();
    Plan();
    if (!m_.refused.empty()) return Finish();
    HB_TRY_VOID(Resolve(resolve));
    if (auto written = Write(); !written) {
      // What the rewrite made of a hostile line does not read back as one instruction.
      Refuse(std::max(write_line_, 1),
             "cannot be written as a Dockerfile instruction again: " + written.error().message);
    }
    return Finish();
  }

 private:
  void Note(int line, std::string kind, std::string message) {
    m_.changes.push_back({line, std::move(kind), std::move(message)});
  }
  void Refuse(int line, std::string message) {
    for (const auto& r : m_.refused) {
      if (r.line == line && r.message == message) return;
    }
    m_.refused.push_back({line, "refused", std::move(message)});
  }
  const Instruction& At(size_t i) const { return df_.instructions[i]; }
  // Whether `words` can be written as JSON strings (exec form, a JSON COPY); refuses line `line`
  // when not.
  bool Utf8(const std::vector<std::string>& words, int line) {
    for (const auto& w : words) {
      if (!IsValidUtf8(w)) {
        Refuse(line, "'" + Printable(w) + "' is not valid UTF-8, which JSON form cannot hold");
        return false;
      }
    }
    return true;
  }

  // ${VAR}, $VAR and ${VAR:-default} from the ARGs before the first FROM.
  std::pair<std::string, bool> Expand(std::string_view s,
                                      const std::map<std::string, std::string>& vars = {}) const {
    std::string out;
    bool complete = true;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] != '$' || i + 1 >= s.size()) {
        out.push_back(s[i]);
        continue;
      }
      std::string name, fallback;
      bool has_fallback = false;
      if (s[i + 1] == '{') {
        size_t close = s.find('}', i);
        if (close == std::string_view::npos) return {out, false};
        std::string_view inner = s.substr(i + 2, close - i - 2);
        if (size_t dash = inner.find(":-"); dash != std::string_view::npos) {
          fallback = std::string(inner.substr(dash + 2));
          has_fallback = true;
          inner = inner.substr(0, dash);
        }
        name = std::string(inner);
        i = close;
      } else {
        size_t j = i + 1;
        while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
        name = std::string(s.substr(i + 1, j - i - 1));
        i = j - 1;
      }
      const std::string* value = nullptr;
      if (auto v = vars.find(name); v != vars.end()) {
        value = &v->second;
      } else if (auto a = args_.find(name); a != args_.end()) {
        value = &a->second;
      }
      if (value && !value->empty()) {
        out += *value;
      } else if (has_fallback) {
        out += fallback;
      } else {
        complete = false;
      }
    }
    return {out, complete};
  }

  void ReadStages() {
    std::vector<Stage> stages = df_.Stages();
    size_t first = stages.empty() ? df_.instructions.size() : stages.front().from;
    for (size_t i = 0; i < first; ++i) {
      for (auto& [k, v] : At(i).KeyValues(df_.escape)) args_[k] = v.value_or("");
    }
    for (size_t s = 0; s < stages.size(); ++s) {
      StageInfo info;
      info.stage = stages[s];
      auto [base, complete] = Expand(stages[s].base);
      info.base = base;
      info.expanded = complete;
      std::string lower = AsciiLower(base);
      for (size_t p = 0; p < s; ++p) {
        if ((!stages_[p].stage.name.empty() && stages_[p].stage.name == lower) ||
            lower == std::to_string(p)) {
          info.parent = p;
        }
      }
      if (!info.parent && complete && lower != "scratch") {
        info.match = MatchBaseImage(base, options_.overrides);
      }
      stages_.push_back(std::move(info));
    }
  }

  // The final stage and the stages it builds on, root first.
  std::vector<size_t> Chain() const {
    std::vector<size_t> chain;
    for (std::optional<size_t> s = stages_.size() - 1; s; s = stages_[*s].parent) {
      chain.insert(chain.begin(), *s);
    }
    return chain;
  }

  void Plan() {
    if (stages_.empty()) return;  // Parse refuses a Dockerfile without FROM
    chain_ = Chain();
    std::set<size_t> in_chain(chain_.begin(), chain_.end());
    for (size_t s = 0; s < stages_.size(); ++s) {
      const StageInfo& st = stages_[s];
      const Instruction& from = At(st.stage.from);
      if (st.parent || AsciiLower(st.base) == "scratch") continue;
      bool root_of_chain = s == chain_.front();
      if (!st.expanded) {
        if (root_of_chain) {
          Refuse(from.line, fmt::format("FROM {}: the image depends on a build argument without "
                                        "a default; give the ARG a default before the first FROM",
                                        st.stage.base));
        } else {
          Note(from.line, "warning",
               fmt::format("FROM {}: depends on a build argument; the stage stays as it is",
                           st.stage.base));
        }
        continue;
      }
      if (!st.match || st.match->runtime.empty()) {
        std::string why = st.match ? st.match->note : "no hardened image matches it";
        stages_[s].match.reset();
        if (root_of_chain) {
          Refuse(from.line, fmt::format("FROM {}: {} (see the base-image table in the README; "
                                        "--map {}=RUNTIME names one)",
                                        st.base, why, st.base));
        } else {
          Note(from.line, "warning",
               fmt::format("FROM {}: {}; this build stage stays on it (its output is copied, it "
                           "is not in the final image)",
                           st.base, why));
        }
      }
    }
    if (!m_.refused.empty()) return;

    const StageInfo& root = stages_[chain_.front()];
    if (AsciiLower(root.base) == "scratch") {
      scratch_final_ = true;
      Note(At(root.stage.from).line, "base",
           "the final image is built FROM scratch: it has no base image to harden or pin");
      return;
    }
    runtime_match_ = *root.match;
    m_.runtime = runtime_match_.runtime;

    // What the chain runs and installs, with the variables its ENV and ARG lines set.
    std::map<std::string, std::string> vars;
    for (size_t s : chain_) {
      const Stage& st = stages_[s].stage;
      for (size_t i = st.from + 1; i < st.end; ++i) {
        const Instruction& in = At(i);
        if (in.keyword == "ENV" || in.keyword == "ARG") {
          for (auto& [k, v] : in.KeyValues(df_.escape)) {
            if (v) vars[k] = Expand(*v, vars).first;
          }
        } else if (in.keyword == "RUN") {
          split_ = true;
          for (const auto& words : RunCommands(in)) PlanCommand(in, words, vars);
        } else if (in.keyword == "ADD") {
          std::vector<std::string> words = in.exec_form ? in.exec_args : in.Words(df_.escape);
          for (size_t w = 0; w + 1 < words.size(); ++w) {
            if (words[w].find("://") != std::string::npos || words[w].starts_with("git@")) {
              split_ = true;
            }
          }
        } else if (in.keyword == "ONBUILD") {
          Note(in.line, "warning", "ONBUILD triggers run in images built FROM this one; kept");
        }
      }
    }
    if (chain_.size() > 1) split_ = true;
    std::sort(packages_.begin(), packages_.end());
    packages_.erase(std::unique(packages_.begin(), packages_.end()), packages_.end());
    m_.runtime_packages = packages_;
    PlanCommandLine();
  }

  void PlanCommand(const Instruction& in, const std::vector<std::string>& words,
                   const std::map<std::string, std::string>& vars) {
    CommandKind k = Classify(words);
    switch (k.kind) {
      case CommandKind::kAptInstall:
        for (const auto& word : k.packages) {
          auto [p, complete] = Expand(word, vars);
          std::string name = complete ? p.substr(0, p.find_first_of("=/")) : "";
          if (name.empty() || name.find_first_of("$*?[") != std::string::npos) {
            Refuse(in.line, fmt::format("apt-get install {}: not a package name (a variable with "
                                        "no value in the Dockerfile?)",
                                        word));
            continue;
          }
          if (name != p) {
            Note(in.line, "packages",
                 fmt::format("{}: the version or release is dropped; the lock pins the newest", p));
          }
          packages_.push_back(name);
          if (apt_line_ == 0) apt_line_ = in.line;
        }
        break;
      case CommandKind::kForeignInstall:
        Refuse(in.line, fmt::format("{} installs packages that are not Debian's: name their Debian "
                                    "packages with apt-get install instead",
                                    k.program));
        break;
      case CommandKind::kDebFile:
        Refuse(in.line,
               "dpkg -i installs a .deb file that no repository names: add its package "
               "to a repository the spec uses, or install it in a build stage and copy "
               "what it ships");
        break;
      default:
        break;
    }
  }

  // CMD and ENTRYPOINT of the chain (the last of each counts), converted to exec form now so a
  // refusal is known before anything is resolved.
  void PlanCommandLine() {
    for (size_t s : chain_) {
      const Stage& st = stages_[s].stage;
      for (size_t i = st.from + 1; i < st.end; ++i) {
        const Instruction& in = At(i);
        if (in.keyword != "CMD" && in.keyword != "ENTRYPOINT") continue;
        std::optional<std::vector<std::string>> words;
        if (in.exec_form) {
          words = in.exec_args;
        } else {
          words = ExecWords(in.text);
          if (words && !Utf8(*words, in.line)) continue;
          if (!words) {
            Refuse(in.line,
                   fmt::format("{} {}: needs a shell, which the runtime image does not have; "
                               "write it in exec form ({} [\"program\", \"arg\"]) or start a "
                               "script's interpreter directly",
                               in.keyword, in.text, in.keyword));
            continue;
          }
          Note(in.line, "exec-form",
               fmt::format("{} {} -> {} {} (no shell in the runtime image)", in.keyword, in.text,
                           in.keyword, JsonArray(*words)));
        }
        (in.keyword == "CMD" ? cmd_ : entrypoint_) = std::move(words);
        if (in.keyword == "CMD") cmd_line_ = in.line;
        if (in.keyword == "ENTRYPOINT") cmd_.reset();  // ENTRYPOINT clears an inherited CMD
      }
    }
  }

  Result<void> Resolve(const ImageResolver& resolve) {
    auto get = [&](const ImageRequest& request) -> Result<ResolvedImage> {
      for (const auto& [r, image] : resolved_) {
        if (r == request) return image;
      }
      HB_TRY(ResolvedImage image, resolve(request));
      resolved_.emplace_back(request, image);
      return image;
    };
    for (size_t s = 0; s < stages_.size(); ++s) {
      const StageInfo& st = stages_[s];
      if (!st.match) continue;
      bool final_runtime = !scratch_final_ && !split_ && s == chain_.back();
      if (final_runtime) continue;
      HB_TRY(ResolvedImage image, get({st.match->dev, {}}));
      stage_refs_[s] = image.reference;
    }
    if (!scratch_final_) {
      HB_TRY(runtime_, get({runtime_match_.runtime, packages_}));
    }
    return {};
  }

  // An instruction from one line of Dockerfile text (what this file generates).
  static Result<Instruction> Make(const std::string& line) {
    HB_TRY(Dockerfile one, Parse("FROM scratch\n" + line + "\n"));
    if (one.instructions.size() != 2) {
      return Fail(ErrorCode::kInternal, "migrate: generated '" + line + "' does not parse as one");
    }
    return one.instructions[1];
  }

  static std::string FromLine(const std::string& platform, const std::string& ref,
                              const std::string& name) {
    std::string line = "FROM ";
    if (!platform.empty()) line += "--platform=" + platform + " ";
    line += ref;
    if (!name.empty()) line += " AS " + name;
    return line;
  }

  Result<void> Write() {
    Dockerfile out;
    out.directives = df_.directives;
    out.escape = df_.escape;
    out.trailing_comments = df_.trailing_comments;
    size_t final_stage = stages_.size() - 1;
    build_name_ = stages_[final_stage].stage.name;
    if (split_ && build_name_.empty()) {
      build_name_ = "app-build";
      for (int n = 2; std::any_of(stages_.begin(), stages_.end(),
                                  [&](const StageInfo& s) { return s.stage.name == build_name_; });
           ++n) {
        build_name_ = "app-build-" + std::to_string(n);
      }
    }
    size_t next = 0;
    for (size_t s = 0; s < stages_.size(); ++s) {
      const StageInfo& st = stages_[s];
      for (; next < st.stage.from; ++next) out.instructions.push_back(At(next));
      const Instruction& from = At(st.stage.from);
      write_line_ = from.line;
      bool is_final = s == final_stage;
      if (is_final && !split_ && !scratch_final_) {
        HB_TRY_VOID(WriteRuntimeStage(out, st.stage.from + 1, st.stage.end, &from));
        next = st.stage.end;
        continue;
      }
      std::string name = is_final ? build_name_ : st.stage.name;
      auto ref = stage_refs_.find(s);
      if (ref != stage_refs_.end()) {
        HB_TRY(Instruction f, Make(FromLine(st.stage.platform, ref->second, name)));
        f.comments = from.comments;
        out.instructions.push_back(std::move(f));
        Note(from.line, "base",
             fmt::format("FROM {} -> {} ({}{}{}), pinned by digest", st.stage.base, st.match->dev,
                         is_final ? "the application's build stage" : "build stage",
                         st.match->note.empty() ? "" : "; ", st.match->note));
      } else if (is_final && name != st.stage.name) {
        HB_TRY(Instruction f, Make(FromLine(st.stage.platform, st.stage.base, name)));
        f.comments = from.comments;
        out.instructions.push_back(std::move(f));
      } else {
        out.instructions.push_back(from);
      }
      std::set<std::string> created = CreatedAccounts(st.stage);
      for (next = st.stage.from + 1; next < st.stage.end; ++next) {
        HB_TRY(std::optional<Instruction> kept, BuildStageInstruction(At(next), s, created));
        if (kept) out.instructions.push_back(std::move(*kept));
      }
    }
    if (split_) {
      HB_TRY_VOID(WriteRuntimeStage(out, 0, 0, nullptr));
    }
    if (!out.instructions.empty()) {
      auto& comments = out.instructions.front().comments;
      comments.insert(comments.begin(),
                      "Moved onto hardened images by `hardbase migrate`: MIGRATION.md says what "
                      "changed and why.");
    }
    m_.after = Print(out);
    return {};
  }

  // An instruction of a build stage moved onto a -dev image, without what names an account only
  // the replaced image had (the node image's `node` user): USER and --chown of a name that no RUN
  // of the stage creates with useradd/adduser. nullopt when it goes.
  Result<std::optional<Instruction>> BuildStageInstruction(const Instruction& in, size_t s,
                                                           const std::set<std::string>& created) {
    if (!stages_[s].match) return std::optional<Instruction>(in);
    auto foreign = [&](std::string_view owner) {
      std::string name(owner.substr(0, owner.find(':')));
      bool numeric = !name.empty() && name.find_first_not_of("0123456789") == std::string::npos;
      return !numeric && name != "root" && !name.empty() && !created.count(name) &&
             name.find('$') == std::string::npos;
    };
    if (in.keyword == "USER" && foreign(Trim(in.text))) {
      Note(in.line, "user",
           fmt::format("USER {} removed from the build stage: {} has no such account (the stage "
                       "builds as root; the final image runs as its non-root user)",
                       Trim(in.text), stages_[s].match->dev));
      return std::optional<Instruction>();
    }
    auto chown = in.FlagValue("chown");
    if ((in.keyword == "COPY" || in.keyword == "ADD") && chown && foreign(*chown)) {
      Instruction copy = in;
      std::erase_if(copy.flags, [](const Flag& f) { return f.name == "chown"; });
      Note(in.line, "user",
           fmt::format("{} --chown={} dropped in the build stage: {} has no such account",
                       in.keyword, *chown, stages_[s].match->dev));
      return std::optional<Instruction>(std::move(copy));
    }
    return std::optional<Instruction>(in);
  }

  // The accounts a stage's RUN lines create.
  std::set<std::string> CreatedAccounts(const Stage& st) const {
    std::set<std::string> names;
    for (size_t i = st.from + 1; i < st.end; ++i) {
      if (At(i).keyword != "RUN") continue;
      for (const auto& words : RunCommands(At(i))) {
        CommandKind k = Classify(words);
        if (k.program != "useradd" && k.program != "adduser" && k.program != "groupadd" &&
            k.program != "addgroup") {
          continue;
        }
        for (auto it = words.rbegin(); it != words.rend(); ++it) {
          if (!it->starts_with("-")) {
            names.insert(*it);
            break;
          }
        }
      }
    }
    return names;
  }

  // The chain's paths the application is made of: the last WORKDIR (when not "/") and every
  // COPY/ADD destination outside it.
  std::vector<std::string> ApplicationPaths() const {
    std::vector<std::string> dests;
    std::string dir = "/";
    for (size_t s : chain_) {
      const Stage& st = stages_[s].stage;
      for (size_t i = st.from + 1; i < st.end; ++i) {
        const Instruction& in = At(i);
        if (in.keyword == "WORKDIR") {
          dir = Absolute(dir, Expand(in.text).first);
        } else if (in.keyword == "COPY" || in.keyword == "ADD") {
          std::vector<std::string> words = in.exec_form ? in.exec_args : in.Words(df_.escape);
          if (words.size() >= 2) dests.push_back(Absolute(dir, Expand(words.back()).first));
        } else if (in.keyword == "RUN") {
          for (const auto& words : RunCommands(in)) {
            for (const auto& out : RunOutputs(words)) dests.push_back(Absolute(dir, out));
          }
        }
      }
    }
    std::vector<std::string> paths;
    if (dir != "/") paths.push_back(dir);
    for (const auto& d : dests) {
      if (d != "/" && (dir == "/" || !Under(d, dir))) paths.push_back(d);
    }
    std::sort(paths.begin(), paths.end());
    paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
    const std::vector<std::string> all = paths;
    std::erase_if(paths, [&](const std::string& p) {
      return std::any_of(all.begin(), all.end(),
                         [&](const std::string& q) { return q != p && Under(p, q); });
    });
    return paths;
  }

  // The final stage on the runtime image: the original's instructions [begin, end) moved over
  // (no split), or a new stage copying the application from the build stage (split).
  Result<void> WriteRuntimeStage(Dockerfile& out, size_t begin, size_t end,
                                 const Instruction* original_from) {
    const auto& moves = runtime_match_.paths;
    std::string platform = stages_[chain_.front()].stage.platform;
    HB_TRY(Instruction from, Make(FromLine(platform, runtime_.reference, "")));
    int from_line = At(stages_[chain_.front()].stage.from).line;
    if (original_from) from.comments = original_from->comments;
    out.instructions.push_back(std::move(from));
    std::string packages =
        packages_.empty() ? "" : fmt::format(" plus {} (a spec)", fmt::join(packages_, ", "));
    Note(from_line, "base",
         fmt::format("final image: {} -> {}{}, pinned by digest{}{}", stages_[chain_.front()].base,
                     runtime_match_.runtime, packages, runtime_match_.note.empty() ? "" : "; ",
                     runtime_match_.note));
    if (!packages_.empty()) {
      Note(apt_line_, "packages",
           fmt::format("apt-get install in the final image -> the spec's packages: {} (the runtime "
                       "has no apt; the build stage still installs them for building)",
                       fmt::join(packages_, " ")));
    }

    std::optional<std::string> user;  // a non-root numeric USER the Dockerfile names
    int user_line = 0;
    auto take_user = [&](const Instruction& in) {
      std::string u(Trim(in.text));
      std::string id = u.substr(0, u.find(':'));
      bool numeric = !id.empty() &&
                     std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; });
      user_line = in.line;
      if (numeric && id != "0") {
        user = u;
      } else {
        user.reset();
        Note(in.line, "user",
             fmt::format("USER {} -> {} (the runtime image's non-root user{})", u,
                         runtime_.user.empty() ? "?" : runtime_.user,
                         id == "0" || id == "root" ? "" : "; its accounts are the image's"));
      }
    };
    auto carry = [&](const Instruction& in) -> Result<void> {
      write_line_ = in.line;
      const std::string& kw = in.keyword;
      if (kw == "USER") {
        take_user(in);
      } else if (kw == "CMD" || kw == "ENTRYPOINT") {
        // written at the end, from PlanCommandLine
      } else if (kw == "SHELL") {
        Note(in.line, "removed", "SHELL: the runtime image has no shell");
      } else if (kw == "HEALTHCHECK") {
        HB_TRY_VOID(CarryHealthcheck(out, in));
      } else if (kw == "EXPOSE") {
        std::vector<std::string> ports;
        for (const auto& w : in.Words(df_.escape)) {
          std::string p = w;
          for (const auto& pm : runtime_match_.ports) {
            std::string_view port = std::string_view(w).substr(0, w.find('/'));
            if (port == pm.from) {
              p = std::string(pm.to) + w.substr(port.size());
              Note(in.line, "port",
                   fmt::format("EXPOSE {} -> {} ({} listens there)", w, p, runtime_match_.runtime));
            }
          }
          ports.push_back(p);
        }
        HB_TRY(Instruction e, Make("EXPOSE " + fmt::format("{}", fmt::join(ports, " "))));
        e.comments = in.comments;
        out.instructions.push_back(std::move(e));
      } else if (kw == "WORKDIR" || (kw == "VOLUME" && !in.exec_form)) {
        std::vector<std::string> words =
            kw == "WORKDIR" ? std::vector<std::string>{std::string(in.text)} : in.Words(df_.escape);
        std::vector<std::string> moved;
        for (const auto& w : words) moved.push_back(MovePath(w, moves));
        if (moved != words) {
          if (kw == "VOLUME" && NeedsJson(moved) && !Utf8(moved, in.line)) return {};
          Note(in.line, "path",
               fmt::format("{} {} -> {}", kw, fmt::join(words, " "), fmt::join(moved, " ")));
          HB_TRY(Instruction e, Make(kw + " " +
                                     (NeedsJson(moved) && kw == "VOLUME"
                                          ? JsonArray(moved)
                                          : fmt::format("{}", fmt::join(moved, " ")))));
          e.comments = in.comments;
          out.instructions.push_back(std::move(e));
        } else {
          out.instructions.push_back(in);
        }
      } else if (kw == "COPY" || kw == "ADD") {
        HB_TRY_VOID(CarryCopy(out, in));
      } else if (kw == "RUN") {
        return Fail(ErrorCode::kInternal, "migrate: RUN in a final stage that was not split");
      } else {
        out.instructions.push_back(in);  // ENV, LABEL, ARG, STOPSIGNAL, ONBUILD, MAINTAINER...
      }
      return {};
    };

    if (!split_) {
      for (size_t i = begin; i < end; ++i) HB_TRY_VOID(carry(At(i)));
    } else {
      std::vector<std::string> paths = ApplicationPaths();
      for (const auto& p : paths) {
        std::string to = MovePath(p, moves);
        std::vector<std::string> words{"--from=" + build_name_, p, to};
        if (NeedsJson({p, to}) && !Utf8({p, to}, from_line)) return {};
        HB_TRY(Instruction c,
               Make(NeedsJson({p, to}) ? "COPY --from=" + build_name_ + " " + JsonArray({p, to})
                                       : fmt::format("COPY {}", fmt::join(words, " "))));
        out.instructions.push_back(std::move(c));
        Note(from_line, "copy",
             fmt::format("COPY --from={} {} {}: the application, built in the build stage",
                         build_name_, p, to));
      }
      if (paths.empty()) {
        Note(from_line, "warning",
             "the final stage has no WORKDIR and copies nothing: nothing is copied from the build "
             "stage; add COPY --from=" +
                 build_name_ + " lines for what the application needs");
      } else {
        Note(from_line, "copy",
             "files the build stage's RUN lines wrote elsewhere (global npm or pip installs, "
             "/usr/local) are not copied: add COPY --from lines for them; the copies are owned by "
             "root, so the application can read them but not change them");
      }
      for (size_t s : chain_) {
        const Stage& st = stages_[s].stage;
        for (size_t i = st.from + 1; i < st.end; ++i) {
          const Instruction& in = At(i);
          if (in.keyword == "RUN") {
            Note(in.line, "stage",
                 fmt::format("RUN needs a shell: it runs in the build stage '{}' on {}",
                             build_name_, runtime_match_.dev));
          } else if (in.keyword == "ENV" || in.keyword == "LABEL" || in.keyword == "EXPOSE" ||
                     in.keyword == "WORKDIR" || in.keyword == "VOLUME" ||
                     in.keyword == "STOPSIGNAL" || in.keyword == "USER" || in.keyword == "SHELL" ||
                     in.keyword == "HEALTHCHECK" || in.keyword == "CMD" ||
                     in.keyword == "ENTRYPOINT") {
            HB_TRY_VOID(carry(in));
          }
        }
      }
    }

    // USER, then the command line.
    std::string run_as = user ? *user : runtime_.user;
    if (run_as.empty() || run_as == "0" || run_as == "root") {
      Refuse(user_line ? user_line : from_line,
             fmt::format("{} runs as root: no non-root user to set", runtime_.reference));
      return {};
    }
    if (!user && user_line == 0) {
      Note(from_line, "user",
           fmt::format("USER {}: the runtime image's non-root user (the Dockerfile set none)",
                       run_as));
    }
    HB_TRY(Instruction u, Make("USER " + run_as));
    u.comments = std::move(user_comments_);
    out.instructions.push_back(std::move(u));
    if (entrypoint_) {
      HB_TRY(Instruction e, Make("ENTRYPOINT " + JsonArray(*entrypoint_)));
      out.instructions.push_back(std::move(e));
      if (cmd_) {
        HB_TRY(Instruction c, Make("CMD " + JsonArray(*cmd_)));
        out.instructions.push_back(std::move(c));
      }
    } else if (cmd_) {
      if (!runtime_.entrypoint.empty()) {
        HB_TRY(Instruction e, Make("ENTRYPOINT " + JsonArray(*cmd_)));
        out.instructions.push_back(std::move(e));
        Note(cmd_line_, "entrypoint",
             fmt::format("CMD -> ENTRYPOINT {}: the runtime image's ENTRYPOINT {} would prefix "
                         "a CMD; arguments given to `run` now follow it",
                         JsonArray(*cmd_), JsonArray(runtime_.entrypoint)));
      } else {
        HB_TRY(Instruction c, Make("CMD " + JsonArray(*cmd_)));
        out.instructions.push_back(std::move(c));
      }
    }
    return {};
  }

  Result<void> CarryCopy(Dockerfile& out, const Instruction& in) {
    write_line_ = in.line;
    std::vector<std::string> words = in.exec_form ? in.exec_args : in.Words(df_.escape);
    if (words.size() < 2 || !in.heredocs.empty() || runtime_match_.paths.empty()) {
      out.instructions.push_back(in);
      return {};
    }
    std::string moved = MovePath(words.back(), runtime_match_.paths);
    if (moved == words.back()) {
      out.instructions.push_back(in);
      return {};
    }
    words.back() = moved;
    if (NeedsJson(words) && !Utf8(words, in.line)) return {};
    Instruction copy = in;
    copy.exec_form = false;
    copy.exec_args.clear();
    std::string flags;
    for (const auto& f : in.flags)
      flags += "--" + f.name + (f.has_value ? "=" + f.value : "") + " ";
    HB_TRY(Instruction made,
           Make(in.keyword + " " + flags +
                (NeedsJson(words) ? JsonArray(words) : fmt::format("{}", fmt::join(words, " ")))));
    made.comments = in.comments;
    out.instructions.push_back(std::move(made));
    Note(in.line, "path",
         fmt::format("{} to {} -> {} (where {} keeps it)", in.keyword, in.Words(df_.escape).back(),
                     moved, runtime_match_.runtime));
    return {};
  }

  Result<void> CarryHealthcheck(Dockerfile& out, const Instruction& in) {
    write_line_ = in.line;
    if (in.nested.empty() || in.nested.front().exec_form) {
      out.instructions.push_back(in);  // NONE, or already exec form
      return {};
    }
    const Instruction& cmd = in.nested.front();
    auto words = ExecWords(cmd.text);
    if (!words) {
      Note(in.line, "healthcheck",
           fmt::format("HEALTHCHECK CMD {} needs a shell, which the runtime image does not have: "
                       "commented out; probe the service from outside (an orchestrator's HTTP or "
                       "TCP check) or give an exec-form check with a program the image has",
                       cmd.text));
      user_comments_.push_back("HEALTHCHECK CMD " + cmd.text +
                               "   (needs a shell: commented out, see MIGRATION.md)");
      return {};
    }
    std::string flags;
    for (const auto& f : in.flags)
      flags += "--" + f.name + (f.has_value ? "=" + f.value : "") + " ";
    if (!Utf8(*words, in.line)) return {};
    HB_TRY(Instruction made, Make("HEALTHCHECK " + flags + "CMD " + JsonArray(*words)));
    made.comments = in.comments;
    out.instructions.push_back(std::move(made));
    Note(in.line, "healthcheck",
         fmt::format("HEALTHCHECK CMD {} -> exec form; the runtime image must have {}", cmd.text,
                     words->front()));
    return {};
  }

  Result<Migration> Finish() {
    auto by_line = [](const MigrationNote& a, const MigrationNote& b) { return a.line < b.line; };
    std::stable_sort(m_.changes.begin(), m_.changes.end(), by_line);
    std::stable_sort(m_.refused.begin(), m_.refused.end(), by_line);
    if (!m_.refused.empty()) m_.after.clear();
    return std::move(m_);
  }

  const Dockerfile& df_;
  const MigrateOptions& options_;
  Migration m_;
  std::map<std::string, std::string> args_;
  std::vector<StageInfo> stages_;
  std::vector<size_t> chain_;
  bool split_ = false;
  bool scratch_final_ = false;
  BaseImageMatch runtime_match_;
  std::vector<std::string> packages_;
  std::optional<std::vector<std::string>> cmd_, entrypoint_;
  int cmd_line_ = 0;
  int apt_line_ = 0;  // the first apt-get install of the chain
  std::vector<std::pair<ImageRequest, ResolvedImage>> resolved_;
  std::map<size_t, std::string> stage_refs_;
  ResolvedImage runtime_;
  std::string build_name_;
  std::vector<std::string> user_comments_;
  int write_line_ =
      0;  // the original line being written, for a refusal  // written above the final USER line
};

}  // namespace

std::optional<std::vector<std::string>> ExecWords(std::string_view command) {
  ShellWords sw = SplitShell(command);
  if (sw.needs_shell || sw.words.empty()) return std::nullopt;
  if (sw.words.front() == "exec") sw.words.erase(sw.words.begin());
  if (sw.words.empty()) return std::nullopt;
  return sw.words;
}

Result<Migration> Migrate(std::string_view dockerfile, const MigrateOptions& options,
                          const ImageResolver& resolve) {
  HB_TRY(Dockerfile df, Parse(dockerfile));
  return Migrator(df, options).Run(dockerfile, resolve);
}

std::string MigrationMarkdown(const Migration& m, std::string_view source) {
  std::string out = fmt::format("# Migration of {}\n\n", source);
  if (!m.refused.empty()) {
    out += "Not migrated: what follows cannot be translated. Nothing was written.\n\n";
    for (const auto& r : m.refused) out += fmt::format("- line {}: {}\n", r.line, r.message);
    out += "\n";
  } else {
    out += fmt::format(
        "The final image runs on the hardened `{}` image{}, pinned by digest, as a "
        "non-root user.\n\n",
        m.runtime.empty() ? "scratch" : m.runtime,
        m.runtime_packages.empty() ? ""
                                   : fmt::format(" plus {}", fmt::join(m.runtime_packages, ", ")));
  }
  if (!m.changes.empty()) {
    out += "## Changes\n\n| line | what | why |\n|---|---|---|\n";
    for (const auto& c : m.changes) {
      std::string message = c.message;
      for (size_t p = 0; (p = message.find('|', p)) != std::string::npos; p += 2) {
        message.replace(p, 1, "\\|");
      }
      out += fmt::format("| {} | {} | {} |\n", c.line == 0 ? "" : std::to_string(c.line), c.kind,
                         message);
    }
  }
  return out;
}

nlohmann::ordered_json MigrationJson(const Migration& m, std::string_view source,
                                     std::string_view spec) {
  auto notes = [](const std::vector<MigrationNote>& list) {
    nlohmann::ordered_json a = nlohmann::ordered_json::array();
    for (const auto& n : list) {
      a.push_back({{"line", n.line}, {"kind", n.kind}, {"message", n.message}});
    }
    return a;
  };
  nlohmann::ordered_json refused = nlohmann::ordered_json::array();
  for (const auto& r : m.refused) refused.push_back({{"line", r.line}, {"message", r.message}});
  return {{"schema", "hardbase.migration/v1"},
          {"source", source},
          {"before", m.before},
          {"after", m.after},
          {"runtime", m.runtime},
          {"packages", m.runtime_packages},
          {"spec", spec},
          {"changes", notes(m.changes)},
          {"refused", refused}};
}

}  // namespace hardbase::dockerfile
