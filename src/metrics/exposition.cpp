#include "metrics/exposition.h"

#include <charconv>
#include <cmath>

namespace dfs::metrics {

std::string escape_label_value(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string escape_help(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Shortest form that reads back as the same double: 0.25, 1e-05, 12345.
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, r.ptr);
}

namespace {

void append_uint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// {a="x",b="y"} (nothing for no labels); `le` is the histogram bucket's extra label, last as
// in the Go client.
void append_labels(std::string& out, const std::vector<std::string>& names,
                   const LabelValues& values, const std::string* le = nullptr) {
  if (names.empty() && !le) return;
  out += '{';
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ',';
    out += names[i];
    out += "=\"";
    out += escape_label_value(values[i]);
    out += '"';
  }
  if (le) {
    if (!names.empty()) out += ',';
    out += "le=\"";
    out += *le;
    out += '"';
  }
  out += '}';
}

void append_header(std::string& out, const Family& f) {
  out += "# HELP ";
  out += f.name();
  out += ' ';
  out += escape_help(f.help());
  out += "\n# TYPE ";
  out += f.name();
  out += ' ';
  out += type_name(f.type());
  out += '\n';
}

void render_counters(std::string& out, const CounterFamily& f) {
  auto series = f.series();
  if (series.empty()) return;
  append_header(out, f);
  for (const auto& [values, c] : series) {
    out += f.name();
    append_labels(out, f.label_names(), values);
    out += ' ';
    append_uint(out, c->value());
    out += '\n';
  }
}

void render_gauges(std::string& out, const GaugeFamily& f) {
  auto series = f.series();
  if (series.empty()) return;
  append_header(out, f);
  for (const auto& [values, g] : series) {
    out += f.name();
    append_labels(out, f.label_names(), values);
    out += ' ';
    out += format_value(g->value());  // a computed gauge's callback runs here
    out += '\n';
  }
}

void render_histograms(std::string& out, const HistogramFamily& f) {
  auto series = f.series();
  if (series.empty()) return;
  append_header(out, f);
  std::vector<std::string> les;
  for (double b : f.bounds())
    les.push_back(format_value(b));
  les.push_back("+Inf");
  for (const auto& [values, h] : series) {
    const auto snap = h->snapshot();
    for (size_t i = 0; i < les.size(); ++i) {
      out += f.name();
      out += "_bucket";
      append_labels(out, f.label_names(), values, &les[i]);
      out += ' ';
      append_uint(out, snap.cumulative[i]);
      out += '\n';
    }
    out += f.name();
    out += "_sum";
    append_labels(out, f.label_names(), values);
    out += ' ';
    out += format_value(snap.sum);
    out += '\n';
    out += f.name();
    out += "_count";
    append_labels(out, f.label_names(), values);
    out += ' ';
    append_uint(out, snap.count);
    out += '\n';
  }
}

}  // namespace

std::string render(const Registry& registry) {
  std::string out;
  registry.visit([&out](const Family& f) {
    switch (f.type()) {
      case MetricType::kCounter:
        render_counters(out, static_cast<const CounterFamily&>(f));
        break;
      case MetricType::kGauge:
        render_gauges(out, static_cast<const GaugeFamily&>(f));
        break;
      case MetricType::kHistogram:
        render_histograms(out, static_cast<const HistogramFamily&>(f));
        break;
    }
  });
  return out;
}

}  // namespace dfs::metrics
