#include "metrics/registry.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <set>
#include <stdexcept>

namespace dfs::metrics {

const char* type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// ---- series ----

uint64_t Counter::value() const noexcept {
  uint64_t sum = 0;
  for (size_t c = 0; c < util::cell_count(); ++c)
    sum += cells_[c].v.load(std::memory_order_relaxed);
  return sum;
}

Histogram::Histogram(std::span<const double> bounds)
    : bounds_(bounds),
      lines_per_cell_((bounds.size() + 2 + kWordsPerLine - 1) / kWordsPerLine),
      lines_(new Line[lines_per_cell_ * util::cell_count()]) {
  for (size_t l = 0; l < lines_per_cell_ * util::cell_count(); ++l) {
    for (auto& w : lines_[l].w)
      w.store(0, std::memory_order_relaxed);
  }
}

void Histogram::observe(double v) noexcept {
  // The first bound >= v is v's bucket (bounds are inclusive: le="0.1" counts 0.1). NaN
  // compares false with every bound and lands in +Inf, as in the Go client.
  size_t i = bounds_.size();
  if (!std::isnan(v)) {
    i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  }
  const size_t c = util::this_cell();
  word(c, i).fetch_add(1, std::memory_order_relaxed);
  // The sum is this thread's own word, so the compare-exchange practically never retries.
  auto& sum = word(c, bounds_.size() + 1);
  uint64_t old = sum.load(std::memory_order_relaxed);
  while (!sum.compare_exchange_weak(old, std::bit_cast<uint64_t>(std::bit_cast<double>(old) + v),
                                    std::memory_order_relaxed)) {
  }
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.cumulative.resize(bounds_.size() + 1);
  uint64_t running = 0;
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    for (size_t c = 0; c < util::cell_count(); ++c)
      running += word(c, i).load(std::memory_order_relaxed);
    s.cumulative[i] = running;
  }
  s.count = running;
  for (size_t c = 0; c < util::cell_count(); ++c)
    s.sum += std::bit_cast<double>(word(c, bounds_.size() + 1).load(std::memory_order_relaxed));
  return s;
}

// ---- families ----

void Family::check_arity(const LabelValues& values) const {
  if (values.size() != label_names_.size()) {
    throw std::invalid_argument("metric " + name_ + ": " + std::to_string(values.size()) +
                                " label values for " + std::to_string(label_names_.size()) +
                                " labels");
  }
}

Gauge& GaugeFamily::computed(const LabelValues& values, std::function<double()> compute) {
  check_arity(values);
  if (!compute) throw std::invalid_argument("metric " + name() + ": empty callback");
  std::lock_guard lock(mu_);
  auto [it, inserted] = series_.emplace(values, nullptr);
  if (!inserted) throw std::invalid_argument("metric " + name() + ": series exists already");
  it->second = std::make_shared<Gauge>(std::move(compute));
  return *it->second;
}

// ---- registry ----

namespace {

bool name_char(char c, bool first, bool colon_ok) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon_ok && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

// The sample names a family puts on the wire; two families must never share one, or their
// samples would be read as belonging to the same family.
std::vector<std::string> sample_names(MetricType type, const std::string& name) {
  if (type == MetricType::kHistogram) {
    return {name, name + "_bucket", name + "_sum", name + "_count"};
  }
  return {name};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool Registry::valid_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, true)) return false;
  }
  return true;
}

bool Registry::valid_label_name(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;  // "__" is Prometheus' own
  for (size_t i = 0; i < name.size(); ++i) {
    if (!name_char(name[i], i == 0, false)) return false;
  }
  return true;
}

std::vector<double> Registry::latency_buckets() {
  // Literals rather than a loop multiplying by 10, whose rounding drift would show up in the
  // le labels (0.0010000000000000002).
  return {1e-5,  2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 0.01,
          0.025, 0.05,   0.1,  0.25, 0.5,    1,    2.5,  5,      10};
}

template <class F>
F& Registry::add(std::unique_ptr<F> family) {
  const std::string& name = family->name();
  if (!valid_metric_name(name)) throw std::invalid_argument("invalid metric name: " + name);
  // The text format has no separate family name for counters: the sample is the family, and
  // Prometheus convention (and promtool's lint) wants it to end in _total.
  if (family->type() == MetricType::kCounter && !ends_with(name, "_total")) {
    throw std::invalid_argument("counter name must end in _total: " + name);
  }
  std::set<std::string> seen;
  for (const auto& l : family->label_names()) {
    if (!valid_label_name(l)) throw std::invalid_argument(name + ": invalid label name: " + l);
    // "le" is the histogram bucket label and would be ambiguous anywhere.
    if (l == "le") throw std::invalid_argument(name + ": label name 'le' is reserved");
    if (!seen.insert(l).second) throw std::invalid_argument(name + ": duplicate label " + l);
  }
  const auto mine = sample_names(family->type(), name);
  std::lock_guard lock(mu_);
  for (const auto& [other_name, other] : families_) {
    for (const auto& a : sample_names(other->type(), other_name)) {
      if (std::find(mine.begin(), mine.end(), a) != mine.end()) {
        throw std::invalid_argument("metric " + name + " collides with " + other_name);
      }
    }
  }
  F& ref = *family;
  families_.emplace(name, std::move(family));
  return ref;
}

CounterFamily& Registry::counter(const std::string& name, const std::string& help,
                                 std::vector<std::string> label_names) {
  const bool single = label_names.empty();
  auto& f = add(std::make_unique<CounterFamily>(name, help, std::move(label_names)));
  if (single) f.labels();
  return f;
}

GaugeFamily& Registry::gauge(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names) {
  const bool single = label_names.empty();
  auto& f = add(std::make_unique<GaugeFamily>(name, help, std::move(label_names)));
  if (single) f.labels();
  return f;
}

GaugeFamily& Registry::computed_gauge(const std::string& name, const std::string& help,
                                      std::function<double()> compute) {
  if (!compute) throw std::invalid_argument("metric " + name + ": empty callback");
  auto& f = add(std::make_unique<GaugeFamily>(name, help, std::vector<std::string>{}));
  f.computed({}, std::move(compute));
  return f;
}

HistogramFamily& Registry::histogram(const std::string& name, const std::string& help,
                                     std::vector<double> bounds,
                                     std::vector<std::string> label_names) {
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (!std::isfinite(bounds[i]) || (i > 0 && !(bounds[i - 1] < bounds[i]))) {
      throw std::invalid_argument("histogram " + name +
                                  ": bounds must be finite and strictly increasing");
    }
  }
  const bool single = label_names.empty();
  auto& f =
      add(std::make_unique<HistogramFamily>(name, help, std::move(label_names), std::move(bounds)));
  if (single) f.labels();
  return f;
}

bool Registry::remove(const std::string& name) {
  std::unique_ptr<Family> doomed;
  {
    std::lock_guard lock(mu_);
    auto it = families_.find(name);
    if (it == families_.end()) return false;
    doomed = std::move(it->second);
    families_.erase(it);
  }
  return true;  // `doomed` (and any callback state it holds) is destroyed unlocked
}

void Registry::visit(const std::function<void(const Family&)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& [name, family] : families_)
    fn(*family);
}

}  // namespace dfs::metrics
