// The text exposition format (version 0.0.4) against its rules: escaping, HELP/TYPE once per
// family before its samples, histogram buckets cumulative and ending in le="+Inf" with _sum
// and _count, value formatting, deterministic output.

#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "metrics_format_check.h"

namespace dfs::metrics {
namespace {

TEST(MetricsExposition, LabelValueEscaping) {
  EXPECT_EQ(escape_label_value("plain"), "plain");
  EXPECT_EQ(escape_label_value("a\\b"), "a\\\\b");
  EXPECT_EQ(escape_label_value("say \"hi\""), "say \\\"hi\\\"");
  EXPECT_EQ(escape_label_value("two\nlines"), "two\\nlines");
  EXPECT_EQ(escape_label_value("\\\"\n"), "\\\\\\\"\\n");
  EXPECT_EQ(escape_label_value("tab\tstays"), "tab\tstays");
  EXPECT_EQ(escape_label_value("ünïcödé"), "ünïcödé");  // UTF-8 passes through
}

TEST(MetricsExposition, HelpEscapingLeavesQuotes) {
  EXPECT_EQ(escape_help("a \"quoted\" \\ word\nnext"), "a \"quoted\" \\\\ word\\nnext");
}

TEST(MetricsExposition, ValueFormatting) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(1), "1");
  EXPECT_EQ(format_value(-2.5), "-2.5");
  EXPECT_EQ(format_value(0.1), "0.1");
  EXPECT_EQ(format_value(1e-5), "1e-05");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  // Round-trips exactly.
  for (double v : {0.1 + 0.2, 1.0 / 3, 123456789.123, 2.5e-5}) {
    EXPECT_EQ(std::stod(format_value(v)), v);
  }
}

TEST(MetricsExposition, FullOutputIsExactlyAsSpecified) {
  Registry r;
  auto& ops = r.counter("app_ops_total", "Operations\\done\nby kind.", {"op", "path"});
  ops.labels({"write", "/tmp/\"x\""}).inc(3);
  ops.labels({"read", "C:\\dir\nnext"}).inc();
  r.gauge("app_temp_celsius", "Temperature.").labels().set(-3.25);
  auto& h = r.histogram("app_latency_seconds", "Latency.", {0.01, 0.1, 1}, {"op"});
  // Binary fractions, so the sum is exact.
  h.labels({"read"}).observe(0.0078125);
  h.labels({"read"}).observe(0.0625);
  h.labels({"read"}).observe(0.0625);
  h.labels({"read"}).observe(3);
  r.computed_gauge("app_up", "Computed.", [] { return 1.0; });
  r.counter("app_empty_total", "No series yet.", {"x"});  // left out: nothing to say

  const std::string expected =
      "# HELP app_latency_seconds Latency.\n"
      "# TYPE app_latency_seconds histogram\n"
      "app_latency_seconds_bucket{op=\"read\",le=\"0.01\"} 1\n"
      "app_latency_seconds_bucket{op=\"read\",le=\"0.1\"} 3\n"
      "app_latency_seconds_bucket{op=\"read\",le=\"1\"} 3\n"
      "app_latency_seconds_bucket{op=\"read\",le=\"+Inf\"} 4\n"
      "app_latency_seconds_sum{op=\"read\"} 3.1328125\n"
      "app_latency_seconds_count{op=\"read\"} 4\n"
      "# HELP app_ops_total Operations\\\\done\\nby kind.\n"
      "# TYPE app_ops_total counter\n"
      "app_ops_total{op=\"read\",path=\"C:\\\\dir\\nnext\"} 1\n"
      "app_ops_total{op=\"write\",path=\"/tmp/\\\"x\\\"\"} 3\n"
      "# HELP app_temp_celsius Temperature.\n"
      "# TYPE app_temp_celsius gauge\n"
      "app_temp_celsius -3.25\n"
      "# HELP app_up Computed.\n"
      "# TYPE app_up gauge\n"
      "app_up 1\n";
  const std::string text = render(r);
  EXPECT_EQ(text, expected);
  EXPECT_EQ(testing::check_exposition(text), "");
}

TEST(MetricsExposition, HelpAndTypeOncePerFamilyWithManySeries) {
  Registry r;
  auto& f = r.counter("many_total", "h", {"i"});
  auto& h = r.histogram("many_seconds", "h", {1, 2}, {"i"});
  for (int i = 0; i < 50; ++i) {
    f.labels({std::to_string(i)}).inc();
    h.labels({std::to_string(i)}).observe(i);
  }
  const std::string text = render(r);
  auto count = [&text](const std::string& needle) {
    size_t n = 0;
    for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1))
      ++n;
    return n;
  };
  EXPECT_EQ(count("# HELP many_total "), 1u);
  EXPECT_EQ(count("# TYPE many_total "), 1u);
  EXPECT_EQ(count("# HELP many_seconds "), 1u);
  EXPECT_EQ(count("# TYPE many_seconds "), 1u);
  EXPECT_EQ(count("le=\"+Inf\""), 50u);
  EXPECT_EQ(testing::check_exposition(text), "");
}

TEST(MetricsExposition, HistogramBucketsAreCumulativeAndCountMatchesInf) {
  Registry r;
  auto& h = r.histogram("d_seconds", "h", Registry::latency_buckets()).labels();
  for (int i = 0; i < 1000; ++i)
    h.observe(1e-6 * (i * i));  // 0 .. ~1 s
  const std::string text = render(r);
  std::istringstream in(text);
  std::string line;
  uint64_t prev = 0, inf = 0, count = 0;
  size_t buckets = 0;
  while (std::getline(in, line)) {
    if (line.starts_with("d_seconds_bucket{")) {
      uint64_t v = std::stoull(line.substr(line.rfind(' ') + 1));
      EXPECT_GE(v, prev) << line;
      prev = v;
      ++buckets;
      if (line.find("le=\"+Inf\"") != std::string::npos) inf = v;
    } else if (line.starts_with("d_seconds_count ")) {
      count = std::stoull(line.substr(line.rfind(' ') + 1));
    }
  }
  EXPECT_EQ(buckets, Registry::latency_buckets().size() + 1);
  EXPECT_EQ(inf, 1000u);
  EXPECT_EQ(count, 1000u);
  EXPECT_NE(text.find("d_seconds_bucket{le=\"1e-05\"} 4\n"), std::string::npos) << text;
  EXPECT_EQ(testing::check_exposition(text), "");
}

TEST(MetricsExposition, DeterministicRegardlessOfCreationOrder) {
  auto build = [](bool reverse) {
    Registry r;
    std::vector<std::string> names = {"b_total", "a_total", "c_total"};
    std::vector<std::string> labels = {"z", "x", "y", "x\"q"};
    if (reverse) {
      std::reverse(names.begin(), names.end());
      std::reverse(labels.begin(), labels.end());
    }
    for (const auto& n : names) {
      auto& f = r.counter(n, "help", {"l"});
      for (const auto& l : labels)
        f.labels({l}).inc(7);
    }
    return render(r);
  };
  const std::string a = build(false);
  EXPECT_EQ(a, build(true));
  EXPECT_EQ(a, build(false));
  EXPECT_LT(a.find("a_total"), a.find("b_total"));
  EXPECT_LT(a.find("l=\"x\""), a.find("l=\"y\""));
}

TEST(MetricsExposition, ScrapeWhileUpdatingStaysWellFormed) {
  Registry r;
  auto& f = r.counter("busy_total", "h", {"i"});
  auto& h = r.histogram("busy_seconds", "h", {0.001, 0.01}, {"i"});
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      f.labels({std::to_string(i % 97)}).inc();
      h.labels({std::to_string(i % 13)}).observe((i % 50) * 0.0005);
    }
  });
  for (int i = 0; i < 200; ++i)
    ASSERT_EQ(testing::check_exposition(render(r)), "");
  stop = true;
  writer.join();
}

// The checker itself must catch what it is there to catch.
TEST(MetricsExposition, FormatCheckerRejectsBrokenText) {
  EXPECT_NE(testing::check_exposition("x 1\n"), "");  // no TYPE
  EXPECT_NE(testing::check_exposition("# TYPE x gauge\n# TYPE x gauge\nx 1\n"), "");
  EXPECT_NE(testing::check_exposition("# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n"), "");
  EXPECT_NE(testing::check_exposition("# TYPE x gauge\nx{a=\"un\"escaped\"} 1\n"), "");
  EXPECT_NE(testing::check_exposition("# TYPE x_total counter\nx_total -1\n"), "");
  EXPECT_NE(testing::check_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
                                      "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"),
            "");
  EXPECT_NE(testing::check_exposition("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\n"
                                      "h_count 1\n"),
            "");
  EXPECT_NE(testing::check_exposition("# TYPE x gauge\nx 1"), "");  // no final newline
  EXPECT_EQ(testing::check_exposition("# HELP x h\n# TYPE x gauge\nx 1\n"), "");
}

}  // namespace
}  // namespace dfs::metrics
