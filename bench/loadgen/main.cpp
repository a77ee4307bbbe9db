// dfs_loadgen: an NFSv4.1 load generator built on the project's own client. It opens one
// session per connection over several connections and keeps `depth` requests in flight per
// session, runs one workload and prints the results (one JSON line with --json).
//
//   dfs_loadgen --host 127.0.0.1 --port P --export /export --workload NAME
//               --connections N --depth D --duration S [--size BYTES] [--json]

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "workloads.h"

namespace {

using dfs::bench::Options;
using dfs::bench::PhaseResult;
using dfs::bench::WorkloadResult;

void usage(std::ostream& os) {
  os << "usage: dfs_loadgen --workload NAME [options]\n"
        "  --host ADDR          server address (127.0.0.1)\n"
        "  --port PORT          server port (2049)\n"
        "  --export PATH        exported path to work under (/export)\n"
        "  --workload NAME      one of:";
  for (const auto& n : dfs::bench::workload_names())
    os << " " << n;
  os << "\n"
        "  --connections N      connections, one session each (4)\n"
        "  --depth D            slots per session = requests in flight per connection (16)\n"
        "  --duration S         seconds of the time-bounded phases (10)\n"
        "  --size BYTES         data size: total for seqwrite/seqoverwrite/seqread, the file for\n"
        "                       randread/randwrite (1G); suffixes K, M, G\n"
        "  --io-size BYTES      READ/WRITE size (1M for seq*, 4K otherwise)\n"
        "  --entries N          bigdir entries (100000)\n"
        "  --dirs N             directories metadata/smallfile spread files over (32)\n"
        "  --readdir-size BYTES READDIR dircount and maxcount (65536)\n"
        "  --uid U --gid G      AUTH_SYS identity (0, 0)\n"
        "  --server-pid PID     also report the server's CPU time per phase (same machine)\n"
        "  --json               print one JSON line instead of text\n";
}

uint64_t parse_size(const std::string& s) {
  size_t pos = 0;
  double v = std::stod(s, &pos);
  std::string suf = s.substr(pos);
  double mul = 1;
  if (suf == "K" || suf == "k" || suf == "KiB")
    mul = 1024.0;
  else if (suf == "M" || suf == "m" || suf == "MiB")
    mul = 1024.0 * 1024;
  else if (suf == "G" || suf == "g" || suf == "GiB")
    mul = 1024.0 * 1024 * 1024;
  else if (!suf.empty())
    throw std::invalid_argument("bad size " + s);
  return static_cast<uint64_t>(v * mul);
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string num(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};

Percentiles percentiles(std::vector<uint32_t>& v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
    return static_cast<double>(v[std::min(i, v.size() - 1)]);
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.max = v.back();
  double sum = 0;
  for (uint32_t x : v)
    sum += x;
  p.mean = sum / static_cast<double>(v.size());
  return p;
}

std::string phase_json(PhaseResult& ph) {
  auto& st = ph.stats;
  double t = ph.elapsed_s > 0 ? ph.elapsed_s : 1e-9;
  auto p = percentiles(st.lat_us);
  std::ostringstream os;
  os << "{\"name\":" << json_string(ph.name) << ",\"unit\":" << json_string(ph.unit)
     << ",\"elapsed_s\":" << num(ph.elapsed_s) << ",\"ops\":" << st.ops
     << ",\"ops_per_s\":" << num(static_cast<double>(st.ops) / t) << ",\"bytes\":" << st.bytes
     << ",\"mib_per_s\":" << num(static_cast<double>(st.bytes) / t / (1024.0 * 1024.0))
     << ",\"compounds\":" << st.compounds
     << ",\"compounds_per_s\":" << num(static_cast<double>(st.compounds) / t)
     << ",\"client_cpu_s\":" << num(ph.client_cpu_s)
     << ",\"server_cpu_s\":" << (ph.server_cpu_s >= 0 ? num(ph.server_cpu_s) : "null")
     << ",\"lat_us\":{\"mean\":" << num(p.mean) << ",\"p50\":" << num(p.p50)
     << ",\"p90\":" << num(p.p90) << ",\"p99\":" << num(p.p99) << ",\"p999\":" << num(p.p999)
     << ",\"max\":" << num(p.max) << "},\"error_count\":" << st.error_count() << ",\"errors\":{";
  bool first = true;
  for (const auto& [k, v] : st.errors) {
    os << (first ? "" : ",") << json_string(k) << ":" << v;
    first = false;
  }
  os << "},\"failures\":[";
  for (size_t i = 0; i < st.failures.size() && i < 20; ++i) {
    os << (i ? "," : "") << json_string(st.failures[i]);
  }
  os << "]}";
  return os.str();
}

bool result_ok(const WorkloadResult& r) {
  if (!r.error.empty() || r.phases.empty()) return false;
  for (const auto& ph : r.phases) {
    if (ph.stats.error_count() > 0 || ph.stats.ops == 0) return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      if (a == "--host")
        opt.host = value();
      else if (a == "--port")
        opt.port = static_cast<uint16_t>(std::stoul(value()));
      else if (a == "--export")
        opt.export_path = value();
      else if (a == "--workload")
        opt.workload = value();
      else if (a == "--connections")
        opt.connections = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--depth")
        opt.depth = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--duration")
        opt.duration = std::stod(value());
      else if (a == "--size")
        opt.size = parse_size(value());
      else if (a == "--io-size")
        opt.io_size = static_cast<uint32_t>(parse_size(value()));
      else if (a == "--entries")
        opt.entries = std::stoull(value());
      else if (a == "--dirs")
        opt.dirs = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--readdir-size")
        opt.readdir_size = static_cast<uint32_t>(parse_size(value()));
      else if (a == "--uid")
        opt.uid = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--gid")
        opt.gid = static_cast<uint32_t>(std::stoul(value()));
      else if (a == "--server-pid")
        opt.server_pid = std::stoi(value());
      else if (a == "--json")
        opt.json = true;
      else if (a == "--help" || a == "-h") {
        usage(std::cout);
        return 0;
      } else {
        throw std::invalid_argument("unknown option " + a);
      }
    }
    const auto& names = dfs::bench::workload_names();
    if (std::find(names.begin(), names.end(), opt.workload) == names.end()) {
      throw std::invalid_argument("--workload must be one of the listed names");
    }
  } catch (const std::exception& e) {
    std::cerr << "dfs_loadgen: " << e.what() << "\n";
    usage(std::cerr);
    return 2;
  }

  WorkloadResult r = dfs::bench::run_workload(opt);
  bool ok = result_ok(r);
  if (opt.json) {
    std::ostringstream os;
    os << "{\"workload\":" << json_string(opt.workload) << ",\"host\":" << json_string(opt.host)
       << ",\"port\":" << opt.port << ",\"export\":" << json_string(opt.export_path)
       << ",\"connections\":" << opt.connections << ",\"depth\":" << opt.depth
       << ",\"depth_granted\":" << r.depth_granted << ",\"duration_s\":" << num(opt.duration)
       << ",\"io_size\":" << r.io_size << ",\"size\":" << r.size
       << ",\"ok\":" << (ok ? "true" : "false")
       << ",\"error\":" << (r.error.empty() ? "null" : json_string(r.error)) << ",\"notes\":[";
    for (size_t i = 0; i < r.notes.size(); ++i)
      os << (i ? "," : "") << json_string(r.notes[i]);
    os << "],\"phases\":[";
    for (size_t i = 0; i < r.phases.size(); ++i)
      os << (i ? "," : "") << phase_json(r.phases[i]);
    os << "]}";
    std::cout << os.str() << std::endl;
  } else {
    std::cout << opt.workload << " against " << opt.host << ":" << opt.port << opt.export_path
              << " (" << opt.connections << " connections x " << r.depth_granted << " slots)\n";
    if (!r.error.empty()) std::cout << "  ERROR: " << r.error << "\n";
    for (const auto& n : r.notes)
      std::cout << "  note: " << n << "\n";
    for (auto& ph : r.phases) {
      double t = ph.elapsed_s > 0 ? ph.elapsed_s : 1e-9;
      auto p = percentiles(ph.stats.lat_us);
      std::printf(
          "  %-16s %12.0f %s/s  %9.1f MiB/s  %10.0f RPC/s  lat p50 %.0f us p99 %.0f us"
          "  (%.2f s, cpu: client %.2f s, server %.2f s; %llu errors)\n",
          ph.name.c_str(), static_cast<double>(ph.stats.ops) / t, ph.unit.c_str(),
          static_cast<double>(ph.stats.bytes) / t / (1024.0 * 1024.0),
          static_cast<double>(ph.stats.compounds) / t, p.p50, p.p99, ph.elapsed_s, ph.client_cpu_s,
          ph.server_cpu_s, static_cast<unsigned long long>(ph.stats.error_count()));
      for (const auto& [k, v] : ph.stats.errors)
        std::cout << "    error " << k << " x" << v << "\n";
      for (const auto& f : ph.stats.failures)
        std::cout << "    failure: " << f << "\n";
    }
  }
  return ok ? 0 : 1;
}
