#pragma once
// A strict checker of Prometheus text exposition (version 0.0.4), written from the format's
// rules, for tests: it catches what a scraper would reject or misread, so unit tests can
// check output without promtool (which the integration tests run as well).

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dfs::metrics::testing {

namespace detail {

inline bool metric_name_ok(std::string_view n) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

inline bool label_name_ok(std::string_view n) {
  if (n.empty() || n.starts_with("__")) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

inline bool parse_value(const std::string& s, double& out) {
  if (s == "+Inf") {
    out = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    out = -INFINITY;
    return true;
  }
  if (s == "NaN") {
    out = NAN;
    return true;
  }
  if (s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size() && s.find_first_of("iInN") == std::string::npos;
}

struct Family {
  std::string type;
  bool help = false;
  bool closed = false;  // another family's samples came after this one's
};

struct HistSeries {
  std::vector<std::pair<double, double>> buckets;  // (le, cumulative count) in text order
  bool has_sum = false;
  bool has_count = false;
  double count = 0;
};

}  // namespace detail

// "" if `text` is valid exposition; otherwise what is wrong and on which line.
inline std::string check_exposition(const std::string& text) {
  using namespace detail;
  if (!text.empty() && text.back() != '\n') return "text does not end with a newline";
  std::map<std::string, Family> families;
  std::map<std::string, std::map<std::string, HistSeries>> histograms;
  std::set<std::string> seen_series;
  std::string current;  // family of the previous sample
  std::istringstream in(text);
  std::string line;
  int n = 0;
  auto fail = [&n](const std::string& why) { return "line " + std::to_string(n) + ": " + why; };
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream ls(line);
      std::string hash, kind, name;
      ls >> hash >> kind >> name;
      if (kind != "HELP" && kind != "TYPE") continue;  // a plain comment
      if (!metric_name_ok(name)) return fail("bad metric name in " + kind);
      Family& f = families[name];
      if (kind == "HELP") {
        if (f.help) return fail("second HELP for " + name);
        f.help = true;
        // Only \\ and \n are escapes in HELP.
        const size_t start = line.find(name) + name.size();
        for (size_t i = start; i < line.size(); ++i) {
          if (line[i] == '\\') {
            if (i + 1 >= line.size() || (line[i + 1] != '\\' && line[i + 1] != 'n')) {
              return fail("bad escape in HELP");
            }
            ++i;
          }
        }
      } else {
        std::string type, extra;
        ls >> type >> extra;
        if (!f.type.empty()) return fail("second TYPE for " + name);
        if (f.closed || current == name) return fail("TYPE after samples of " + name);
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          return fail("unknown type " + type);
        }
        if (!extra.empty()) return fail("junk after TYPE");
        f.type = type;
      }
      continue;
    }
    // name{labels} value [timestamp]
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ')
      ++i;
    const std::string name = line.substr(0, i);
    if (!metric_name_ok(name)) return fail("bad metric name '" + name + "'");
    std::vector<std::pair<std::string, std::string>> labels;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find('=', i);
        if (eq == std::string::npos) return fail("label without =");
        std::string lname = line.substr(i, eq - i);
        if (!label_name_ok(lname)) return fail("bad label name '" + lname + "'");
        i = eq + 1;
        if (i >= line.size() || line[i] != '"') return fail("label value not quoted");
        ++i;
        std::string value;
        for (;; ++i) {
          if (i >= line.size()) return fail("unterminated label value");
          if (line[i] == '"') break;
          if (line[i] == '\\') {
            ++i;
            if (i >= line.size()) return fail("dangling backslash");
            if (line[i] == 'n') {
              value += '\n';
            } else if (line[i] == '\\' || line[i] == '"') {
              value += line[i];
            } else {
              return fail("bad escape in label value");
            }
          } else {
            value += line[i];
          }
        }
        ++i;  // closing quote
        for (const auto& [ln, lv] : labels) {
          if (ln == lname) return fail("duplicate label " + lname);
        }
        labels.emplace_back(lname, value);
        if (i < line.size() && line[i] == ',') {
          ++i;
        } else if (i >= line.size() || line[i] != '}') {
          return fail("expected , or } after label value");
        }
      }
      if (i >= line.size()) return fail("unterminated label set");
      ++i;  // }
    }
    if (i >= line.size() || line[i] != ' ') return fail("no space before the value");
    std::istringstream rest(line.substr(i + 1));
    std::string vs, ts, extra;
    rest >> vs >> ts >> extra;
    if (!extra.empty()) return fail("junk after the value");
    double v = 0;
    if (!parse_value(vs, v)) return fail("bad value '" + vs + "'");
    if (!ts.empty()) {
      char* end = nullptr;
      std::strtoll(ts.c_str(), &end, 10);
      if (*end) return fail("bad timestamp");
    }

    // Which family the sample belongs to.
    std::string family = name;
    std::string suffix;
    if (!families.count(name) || families[name].type.empty()) {
      for (const char* s : {"_bucket", "_sum", "_count"}) {
        std::string_view sv(s);
        if (name.size() > sv.size() && name.ends_with(sv)) {
          std::string base = name.substr(0, name.size() - sv.size());
          auto it = families.find(base);
          if (it != families.end() && it->second.type == "histogram") {
            family = base;
            suffix = s;
          }
        }
      }
    }
    auto fit = families.find(family);
    if (fit == families.end() || fit->second.type.empty()) return fail("sample without TYPE");
    Family& f = fit->second;
    if (f.type == "histogram" && suffix.empty()) return fail("bare sample of a histogram");
    if (family != current) {
      if (f.closed) return fail("samples of " + family + " are not together");
      if (!current.empty()) families[current].closed = true;
      current = family;
    }
    // A series appears once.
    auto sorted = labels;
    std::sort(sorted.begin(), sorted.end());
    std::string key = name + "{";
    for (const auto& [ln, lv] : sorted)
      key += ln + "=" + lv + "\x1f";
    if (!seen_series.insert(key).second) return fail("duplicate series " + name);

    if (f.type == "counter" && !(v >= 0)) return fail("negative or NaN counter");
    bool has_le = false;
    double le = 0;
    std::string others;
    for (const auto& [ln, lv] : sorted) {
      if (ln == "le") {
        has_le = true;
        if (!parse_value(lv, le)) return fail("bad le '" + lv + "'");
      } else {
        others += ln + "=" + lv + "\x1f";
      }
    }
    if (f.type != "histogram" && f.type != "summary" && has_le) {
      return fail("le label outside a histogram");
    }
    if (f.type == "histogram") {
      HistSeries& hs = histograms[family][others];
      if (suffix == "_bucket") {
        if (!has_le) return fail("bucket without le");
        if (!hs.buckets.empty()) {
          if (!(le > hs.buckets.back().first)) return fail("le not increasing");
          if (v < hs.buckets.back().second) return fail("buckets not cumulative");
        }
        hs.buckets.emplace_back(le, v);
      } else {
        if (has_le) return fail("le on _sum/_count");
        if (suffix == "_sum") hs.has_sum = true;
        if (suffix == "_count") {
          hs.has_count = true;
          hs.count = v;
        }
      }
    }
  }
  for (const auto& [family, series] : histograms) {
    for (const auto& [labels, hs] : series) {
      if (hs.buckets.empty() || !std::isinf(hs.buckets.back().first)) {
        return family + ": no le=\"+Inf\" bucket";
      }
      if (!hs.has_sum || !hs.has_count) return family + ": _sum or _count missing";
      if (hs.count != hs.buckets.back().second) return family + ": _count != +Inf bucket";
    }
  }
  return "";
}

// The value of one series, given exactly as rendered ("name" or "name{a=\"b\"}"); -1 if absent.
inline double sample_value(const std::string& text, const std::string& series) {
  const std::string needle = "\n" + series + " ";
  size_t p = ("\n" + text).find(needle);
  if (p == std::string::npos) return -1;
  p += needle.size() - 1;  // position in `text` after the space
  size_t end = text.find('\n', p);
  return std::stod(text.substr(p, end - p));
}

}  // namespace dfs::metrics::testing
