// A deterministic stand-in for libFuzzer's main, for `make test`: replays every file of a corpus
// folder through LLVMFuzzerTestOneInput, then a fixed number of inputs made from the corpus by
// a fixed-seed generator (byte edits, token insertions, splices and repeats that build deep
// nesting). The same build runs the same inputs every time: the test cannot turn red by luck.
//
//   fuzz_<target> CORPUS_DIR [--runs N] [--seed S]
//
// Exit 0 when every input returned; an exception escaping the target prints the input (as a
// C string literal) and exits 1; a crash ends the process (ctest reports it), and a hang meets
// ctest's timeout.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "fuzz/fuzz.h"

namespace {

namespace fs = std::filesystem;

std::string Read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Characters and words that open, close or join the grammars under test.
const std::vector<std::string> kTokens = {"(",
                                          ")",
                                          "[",
                                          "]",
                                          "{",
                                          "}",
                                          "\"",
                                          "'",
                                          ",",
                                          ":",
                                          "-",
                                          " ",
                                          "\n",
                                          "\n  ",
                                          "- ",
                                          "---",
                                          "&a ",
                                          "*a",
                                          "not ",
                                          " and ",
                                          " or ",
                                          "=",
                                          "<=",
                                          "*",
                                          "/",
                                          "?",
                                          "#",
                                          "\\",
                                          "0",
                                          "9",
                                          "1.5",
                                          "60",
                                          "99999999999",
                                          "L",
                                          "W",
                                          "MON",
                                          "JAN",
                                          "@daily",
                                          "${env:HOME}",
                                          "RowCount",
                                          "IsComplete",
                                          "now()",
                                          "avg(last(3))",
                                          "between ",
                                          "in [",
                                          "matches ",
                                          "with threshold ",
                                          "where ",
                                          "steps.",
                                          "params.",
                                          "workflow: ",
                                          "job: ",
                                          "source: ",
                                          "checks: ",
                                          "rule: ",
                                          "file: ",
                                          "when: ",
                                          "timeout: ",
                                          "99999999999999999999h",
                                          "\xff",
                                          std::string(1, '\0')};

std::string Mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return n == 0 ? size_t{0} : static_cast<size_t>(rng() % n); };
  int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    size_t at = pick(s.size() + 1);
    switch (rng() % 7) {
      case 0:  // flip a byte
        if (!s.empty()) s[pick(s.size())] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // insert a token
        s.insert(at, kTokens[pick(kTokens.size())]);
        break;
      case 2:  // delete a range
        if (!s.empty()) s.erase(at, 1 + pick(16));
        break;
      case 3: {  // duplicate a range in place
        size_t from = pick(s.size());
        std::string part = s.substr(from, 1 + pick(32));
        s.insert(at, part);
        break;
      }
      case 4: {  // splice in part of another input
        const std::string& other = corpus[pick(corpus.size())];
        size_t from = pick(other.size());
        s.insert(at, other.substr(from, 1 + pick(64)));
        break;
      }
      case 5: {  // a token repeated: deep nesting, long chains
        const std::string& token = kTokens[pick(kTokens.size())];
        std::string run;
        for (size_t n = 1 + pick(2000); n > 0; --n) run += token;
        s.insert(at, run);
        break;
      }
      default:  // cut
        s.resize(at);
        break;
    }
  }
  return s.size() > (1u << 20) ? s.substr(0, 1u << 20) : s;
}

std::string Quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s.substr(0, 2000)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 32 && c < 127) {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + (s.size() > 2000 ? "\"..." : "\"");
}

bool Run(const std::string& input, const std::string& what) {
  try {
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
    return true;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: an exception escaped: %s\ninput: %s\n", what.c_str(), e.what(),
                 Quoted(input).c_str());
  } catch (...) {
    std::fprintf(stderr, "%s: a non-standard exception escaped\ninput: %s\n", what.c_str(),
                 Quoted(input).c_str());
  }
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [--runs N] [--seed S]\n", argv[0]);
    return 2;
  }
  fs::path dir = argv[1];
  long runs = 0;
  unsigned long long seed = 1;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--runs") {
      runs = std::strtol(argv[i + 1], nullptr, 10);
    } else if (flag == "--seed") {
      seed = std::strtoull(argv[i + 1], nullptr, 10);
    } else {
      std::fprintf(stderr, "unknown option %s\n", flag.c_str());
      return 2;
    }
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::fprintf(stderr, "no corpus in %s\n", dir.c_str());
    return 2;
  }
  std::vector<std::string> corpus;
  bool ok = true;
  for (const auto& f : files) {
    corpus.push_back(Read(f));
    ok = Run(corpus.back(), f.filename().string()) && ok;
  }
  std::mt19937_64 rng(seed);
  for (long i = 0; i < runs; ++i) {
    std::string input = Mutate(corpus[rng() % corpus.size()], corpus, rng);
    ok = Run(input, "mutation " + std::to_string(i)) && ok;
  }
  std::printf("%zu corpus inputs and %ld mutations (seed %llu): %s\n", corpus.size(), runs, seed,
              ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
