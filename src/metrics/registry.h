#pragma once
// A small metrics registry in the Prometheus data model: named families (counter, gauge,
// histogram), each with a fixed label schema, holding one series per set of label values.
//
// Updating a series is lock-free and writes only the calling thread's own cache line
// (util/cells.h): the NFS path does it for every operation on every reactor, and a value is
// summed over the cells when scraped. Finding or creating a series by its label values takes the
// family's mutex, so hot paths look a series up once and keep the reference; series are never
// removed while their family lives. Rendering is in exposition.h.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/cells.h"

namespace dfs::metrics {

enum class MetricType : uint8_t { kCounter, kGauge, kHistogram };
// "counter", "gauge", "histogram": the word the TYPE line uses.
const char* type_name(MetricType t);

using LabelValues = std::vector<std::string>;

// A monotonically increasing integer. Integer rather than double because everything we count
// is an event or a byte, and an atomic add on an integer is a single instruction. One cell per
// thread (util/cells.h); value() sums them. The object has a cache line of its own, so the
// pointer every update reads never shares a line with memory some other thread writes.
class alignas(util::kCacheLine) Counter {
 public:
  Counter() : cells_(new Cell[util::cell_count()]) {}
  void inc(uint64_t n = 1) noexcept {
    cells_[util::this_cell()].v.fetch_add(n, std::memory_order_relaxed);
  }
  uint64_t value() const noexcept;

 private:
  struct alignas(util::kCacheLine) Cell {
    std::atomic<uint64_t> v{0};
  };
  std::unique_ptr<Cell[]> cells_;
};

// A value that goes up and down: either set by the program, or computed by a callback when
// scraped (for values that already live elsewhere, such as the number of open connections,
// so they are never stale and cost nothing between scrapes).
class Gauge {
 public:
  Gauge() = default;
  explicit Gauge(std::function<double()> compute) : compute_(std::move(compute)) {}

  // Ignored by a computed gauge (its callback is the only source of truth).
  void set(double v) noexcept { value_.store(v, std::memory_order_relaxed); }
  void add(double d) noexcept { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return compute_ ? compute_() : value_.load(std::memory_order_relaxed); }
  bool computed() const { return static_cast<bool>(compute_); }

 private:
  std::atomic<double> value_{0};
  const std::function<double()> compute_;
};

// Observations counted into fixed buckets. Each bucket counts only its own range; the
// cumulative counts the exposition format wants are summed at scrape time, so observe()
// touches one bucket instead of all the ones above it. Every thread has its own buckets and
// sum (util/cells.h), laid out in whole cache lines.
class alignas(util::kCacheLine) Histogram {
 public:
  // `bounds` are the buckets' inclusive upper bounds, strictly increasing, without +Inf; they
  // must outlive the histogram (the family owns them).
  explicit Histogram(std::span<const double> bounds);

  void observe(double v) noexcept;

  struct Snapshot {
    std::vector<uint64_t> cumulative;  // one per bound, then +Inf (== count)
    uint64_t count = 0;
    double sum = 0;
  };
  // Not atomic as a whole: a concurrent observe() may be in `sum` but not yet in a bucket.
  // `count` is taken from the buckets, so it always equals the +Inf bucket.
  Snapshot snapshot() const;

 private:
  struct alignas(util::kCacheLine) Line {
    std::atomic<uint64_t> w[util::kCacheLine / sizeof(uint64_t)];
  };
  static constexpr size_t kWordsPerLine = util::kCacheLine / sizeof(uint64_t);
  // Word `i` of cell `c`: the buckets (bounds_.size() + 1, the last is +Inf), then the sum
  // (a double's bits).
  std::atomic<uint64_t>& word(size_t c, size_t i) const {
    return lines_[c * lines_per_cell_ + i / kWordsPerLine].w[i % kWordsPerLine];
  }

  std::span<const double> bounds_;
  size_t lines_per_cell_;
  std::unique_ptr<Line[]> lines_;
};

class Family {
 public:
  virtual ~Family() = default;
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  MetricType type() const { return type_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 protected:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> label_names)
      : name_(std::move(name)),
        help_(std::move(help)),
        type_(type),
        label_names_(std::move(label_names)) {}
  // Throws std::invalid_argument unless there is one value per label name.
  void check_arity(const LabelValues& values) const;

 private:
  const std::string name_;
  const std::string help_;
  const MetricType type_;
  const std::vector<std::string> label_names_;
};

template <class M>
class MetricFamily : public Family {
 public:
  // The series for these label values (in label-name order), created on first use. Takes the
  // family's mutex: look a series up once and keep the reference (only series that are never
  // removed may be kept).
  M& labels(const LabelValues& values = {}) {
    check_arity(values);
    std::lock_guard lock(mu_);
    auto it = series_.find(values);
    if (it == series_.end()) it = series_.emplace(values, make_series()).first;
    return *it->second;
  }

  // Removes one series (e.g. a per-session gauge when its session ends). A scrape that has
  // already taken it keeps it alive until it is done. False if there was none.
  bool remove(const LabelValues& values) {
    std::lock_guard lock(mu_);
    return series_.erase(values) > 0;
  }

  // Every series, ordered by label values (so the rendering is deterministic).
  std::vector<std::pair<LabelValues, std::shared_ptr<const M>>> series() const {
    std::lock_guard lock(mu_);
    std::vector<std::pair<LabelValues, std::shared_ptr<const M>>> out;
    out.reserve(series_.size());
    for (const auto& [values, m] : series_)
      out.emplace_back(values, m);
    return out;
  }

 protected:
  using Family::Family;
  virtual std::shared_ptr<M> make_series() const = 0;

  mutable std::mutex mu_;
  std::map<LabelValues, std::shared_ptr<M>> series_;
};

class CounterFamily final : public MetricFamily<Counter> {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : MetricFamily(std::move(name), std::move(help), MetricType::kCounter,
                     std::move(label_names)) {}

 protected:
  std::shared_ptr<Counter> make_series() const override { return std::make_shared<Counter>(); }
};

class GaugeFamily final : public MetricFamily<Gauge> {
 public:
  GaugeFamily(std::string name, std::string help, std::vector<std::string> label_names)
      : MetricFamily(std::move(name), std::move(help), MetricType::kGauge, std::move(label_names)) {
  }
  // Adds a series computed by `compute` at scrape time. The callback runs on the scraping
  // thread with the registry locked, so it must not register or remove metrics. Throws
  // std::invalid_argument if the series exists already.
  Gauge& computed(const LabelValues& values, std::function<double()> compute);

 protected:
  std::shared_ptr<Gauge> make_series() const override { return std::make_shared<Gauge>(); }
};

class HistogramFamily final : public MetricFamily<Histogram> {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> bounds)
      : MetricFamily(std::move(name), std::move(help), MetricType::kHistogram,
                     std::move(label_names)),
        bounds_(std::move(bounds)) {}
  const std::vector<double>& bounds() const { return bounds_; }

 protected:
  std::shared_ptr<Histogram> make_series() const override {
    return std::make_shared<Histogram>(bounds_);
  }

 private:
  const std::vector<double> bounds_;
};

// Owns the families. Registration checks the exposition format's rules up front (name and
// label charsets, reserved labels, counters ending in _total, no two families producing the
// same sample name) and throws std::invalid_argument, so a bad name fails at start-up rather
// than producing a scrape Prometheus rejects.
class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // A family without labels gets its single series at once, so it is exported (as 0) before
  // its first update.
  CounterFamily& counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names = {});
  GaugeFamily& gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  // A label-less gauge computed at scrape time (see GaugeFamily::computed).
  GaugeFamily& computed_gauge(const std::string& name, const std::string& help,
                              std::function<double()> compute);
  // `bounds`: strictly increasing finite upper bounds; a trailing +Inf may be given or not.
  HistogramFamily& histogram(const std::string& name, const std::string& help,
                             std::vector<double> bounds, std::vector<std::string> label_names = {});

  // Removes a family and its series (references into it die); waits for a scrape in
  // progress. False if there is none by that name.
  bool remove(const std::string& name);

  // Calls `fn` for each family in name order, with the registry locked: families cannot be
  // added or removed meanwhile, which keeps computed gauges' callbacks safe to run.
  void visit(const std::function<void(const Family&)>& fn) const;

  static bool valid_metric_name(std::string_view name);
  static bool valid_label_name(std::string_view name);
  // Duration buckets from 10 µs to 10 s (1, 2.5, 5 per decade), for NFS operation latency.
  static std::vector<double> latency_buckets();

 private:
  template <class F>
  F& add(std::unique_ptr<F> family);

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Family>> families_;
};

}  // namespace dfs::metrics
