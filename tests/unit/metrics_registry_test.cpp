// The metrics registry: registration rules (the exposition format's name rules checked up
// front), series creation, and lock-free updates that add up under concurrency.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "metrics/registry.h"

namespace dfs::metrics {
namespace {

TEST(MetricsRegistry, MetricAndLabelNameCharsets) {
  EXPECT_TRUE(Registry::valid_metric_name("dittofs_nfs_operations_total"));
  EXPECT_TRUE(Registry::valid_metric_name("a:b_c9"));
  EXPECT_TRUE(Registry::valid_metric_name("_x"));
  EXPECT_FALSE(Registry::valid_metric_name(""));
  EXPECT_FALSE(Registry::valid_metric_name("9lives"));
  EXPECT_FALSE(Registry::valid_metric_name("has-dash"));
  EXPECT_FALSE(Registry::valid_metric_name("has space"));
  EXPECT_FALSE(Registry::valid_metric_name("ünicode"));

  EXPECT_TRUE(Registry::valid_label_name("op"));
  EXPECT_TRUE(Registry::valid_label_name("_private"));
  EXPECT_FALSE(Registry::valid_label_name(""));
  EXPECT_FALSE(Registry::valid_label_name("__reserved"));
  EXPECT_FALSE(Registry::valid_label_name("a:b"));  // colons only in metric names
  EXPECT_FALSE(Registry::valid_label_name("1st"));
}

TEST(MetricsRegistry, RegistrationRejectsWhatPrometheusWouldReject) {
  Registry r;
  EXPECT_THROW(r.counter("bad-name_total", "h"), std::invalid_argument);
  EXPECT_THROW(r.counter("requests", "counters end in _total"), std::invalid_argument);
  EXPECT_THROW(r.counter("x_total", "h", {"__name"}), std::invalid_argument);
  EXPECT_THROW(r.counter("x_total", "h", {"le"}), std::invalid_argument);
  EXPECT_THROW(r.gauge("g", "h", {"a", "a"}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h_seconds", "h", {1, 0.5}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h_seconds", "h", {1, 1}), std::invalid_argument);
  EXPECT_THROW(r.histogram("h_seconds", "h", {std::nan("")}), std::invalid_argument);

  r.counter("x_total", "h");
  EXPECT_THROW(r.counter("x_total", "again"), std::invalid_argument);
  EXPECT_THROW(r.gauge("x_total", "same name, other type"), std::invalid_argument);
  // A histogram owns name_bucket, name_sum and name_count too.
  r.histogram("lat_seconds", "h", {1});
  EXPECT_THROW(r.gauge("lat_seconds_count", "h"), std::invalid_argument);
  EXPECT_THROW(r.gauge("lat_seconds_sum", "h"), std::invalid_argument);
  r.gauge("depth", "h");
  EXPECT_THROW(r.histogram("depth", "h", {1}), std::invalid_argument);
}

TEST(MetricsRegistry, HistogramTrailingInfBoundIsImplicit) {
  Registry r;
  auto& h = r.histogram("h_seconds", "h", {0.1, 1, std::numeric_limits<double>::infinity()});
  EXPECT_EQ(h.bounds(), (std::vector<double>{0.1, 1}));
}

TEST(MetricsRegistry, LabelValuesMustMatchTheSchema) {
  Registry r;
  auto& f = r.counter("ops_total", "h", {"op", "status"});
  EXPECT_THROW(f.labels({"READ"}), std::invalid_argument);
  EXPECT_THROW(f.labels(), std::invalid_argument);
  EXPECT_THROW(f.labels({"a", "b", "c"}), std::invalid_argument);
  Counter& c = f.labels({"READ", "NFS4_OK"});
  EXPECT_EQ(&c, &f.labels({"READ", "NFS4_OK"}));  // the same series every time
  EXPECT_NE(&c, &f.labels({"WRITE", "NFS4_OK"}));
}

TEST(MetricsRegistry, LabelLessFamiliesHaveTheirSeriesFromTheStart) {
  Registry r;
  auto& c = r.counter("c_total", "h");
  auto& g = r.gauge("g", "h");
  auto& l = r.counter("l_total", "h", {"x"});
  EXPECT_EQ(c.series().size(), 1u);
  EXPECT_EQ(g.series().size(), 1u);
  EXPECT_EQ(l.series().size(), 0u);  // labelled series appear when first used
}

TEST(MetricsRegistry, CounterGaugeHistogramValues) {
  Registry r;
  Counter& c = r.counter("c_total", "h").labels();
  c.inc();
  c.inc(41);
  EXPECT_EQ(c.value(), 42u);

  Gauge& g = r.gauge("g", "h").labels();
  g.set(3.5);
  g.add(-1);
  EXPECT_DOUBLE_EQ(g.value(), 2.5);

  int calls = 0;
  Gauge& computed = r.gauge("cg", "h", {"k"}).computed({"v"}, [&calls] { return ++calls * 1.0; });
  EXPECT_TRUE(computed.computed());
  computed.set(100);  // ignored: the callback is the source of truth
  EXPECT_DOUBLE_EQ(computed.value(), 1);
  EXPECT_DOUBLE_EQ(computed.value(), 2);
  EXPECT_THROW(r.gauge("cg2", "h", {"k"}).computed({"v"}, nullptr), std::invalid_argument);

  Histogram& h = r.histogram("h_seconds", "h", {0.1, 1, 10}).labels();
  for (double v : {0.05, 0.1, 0.5, 1.0, 5.0, 50.0, 0.0})
    h.observe(v);
  auto s = h.snapshot();
  // le is inclusive: 0.1 counts in le="0.1", 1.0 in le="1".
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{3, 5, 6, 7}));
  EXPECT_EQ(s.count, 7u);
  EXPECT_DOUBLE_EQ(s.sum, 56.65);
}

TEST(MetricsRegistry, HistogramNanGoesToInf) {
  Registry r;
  Histogram& h = r.histogram("h_seconds", "h", {1}).labels();
  h.observe(std::nan(""));
  auto s = h.snapshot();
  EXPECT_EQ(s.cumulative, (std::vector<uint64_t>{0, 1}));
}

TEST(MetricsRegistry, LatencyBucketsSpanTenMicrosecondsToTenSeconds) {
  auto b = Registry::latency_buckets();
  ASSERT_FALSE(b.empty());
  EXPECT_EQ(b.front(), 1e-5);
  EXPECT_EQ(b.back(), 10.0);
  for (size_t i = 1; i < b.size(); ++i)
    EXPECT_LT(b[i - 1], b[i]);
}

TEST(MetricsRegistry, RemoveDropsTheFamily) {
  Registry r;
  r.counter("a_total", "h");
  r.gauge("b", "h");
  EXPECT_TRUE(r.remove("a_total"));
  EXPECT_FALSE(r.remove("a_total"));
  std::vector<std::string> names;
  r.visit([&](const Family& f) { names.push_back(f.name()); });
  EXPECT_EQ(names, std::vector<std::string>{"b"});
  r.counter("a_total", "h");  // the name is free again
}

TEST(MetricsRegistry, VisitIsInNameOrder) {
  Registry r;
  r.gauge("zeta", "h");
  r.counter("alpha_total", "h");
  r.histogram("mid_seconds", "h", {1});
  std::vector<std::string> names;
  r.visit([&](const Family& f) { names.push_back(f.name()); });
  EXPECT_EQ(names, (std::vector<std::string>{"alpha_total", "mid_seconds", "zeta"}));
}

TEST(MetricsRegistry, ConcurrentUpdatesSumExactly) {
  Registry r;
  auto& fam = r.counter("c_total", "h", {"t"});
  Counter& shared = r.counter("shared_total", "h").labels();
  Gauge& g = r.gauge("g", "h").labels();
  Histogram& h = r.histogram("h_seconds", "h", {0.5, 1.5}).labels();
  constexpr int kThreads = 4;
  constexpr int kIters = 100000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Every thread also looks up (and races to create) the same labelled series.
      Counter& mine = fam.labels({"same"});
      for (int i = 0; i < kIters; ++i) {
        shared.inc();
        mine.inc(2);
        g.add(1);
        h.observe(t % 2 ? 1.0 : 0.25);
      }
    });
  }
  for (auto& th : threads)
    th.join();
  EXPECT_EQ(shared.value(), uint64_t{kThreads} * kIters);
  EXPECT_EQ(fam.labels({"same"}).value(), uint64_t{kThreads} * kIters * 2);
  EXPECT_EQ(fam.series().size(), 1u);
  EXPECT_DOUBLE_EQ(g.value(), double{kThreads} * kIters);
  auto s = h.snapshot();
  EXPECT_EQ(s.count, uint64_t{kThreads} * kIters);
  EXPECT_EQ(s.cumulative[0], uint64_t{kThreads / 2} * kIters);
  EXPECT_DOUBLE_EQ(s.sum, (kThreads / 2) * kIters * 1.25);
}

}  // namespace
}  // namespace dfs::metrics
