#!/usr/bin/python3
"""Summarises a bench/run.sh result directory: medians per workload and server, the
dfs/ganesha ratio, the ceilings (loopback TCP throughput from iperf3; each server's own NULL
RPC rate), the kernel-client timings, and a bar chart of the ratios.

    bench/report.py RESULT_DIR            writes results.json, table.md, ratios.png; prints the table
    bench/report.py --summarize RUN.json  one line about one dfs_loadgen run (for the log)

A ratio above 1 means dfs did better (more operations or bytes per second, or less time).
"""
import glob
import json
import os
import re
import statistics
import sys

SERVERS = ("dfs", "ganesha")
DATA_PHASES = {"seqwrite", "seqoverwrite", "seqread", "randread", "randwrite"}
# The metric each phase is compared on.
PRIMARY = {
    "seqwrite": "mib_per_s",
    "seqoverwrite": "mib_per_s",
    "seqread": "mib_per_s",
    "randread": "ops_per_s",
    "randwrite": "ops_per_s",
}
UNIT_LABEL = {"mib_per_s": "MiB/s", "ops_per_s": "/s"}


def load_json(path):
    try:
        with open(path) as f:
            text = f.read().strip()
    except OSError:
        return None
    if not text:
        return None
    for candidate in (text, text.splitlines()[-1]):
        try:
            return json.loads(candidate)
        except ValueError:
            pass
    return None


def read_text(path, default=""):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return default


def summarize(path):
    r = load_json(path)
    if not r:
        return "no JSON result"
    if r.get("error"):
        return "ERROR " + r["error"]
    parts = []
    for ph in r.get("phases", []):
        parts.append("%s %.0f %s/s %.1f MiB/s p50 %.0fus errors %d" % (
            ph["name"], ph["ops_per_s"], ph["unit"], ph["mib_per_s"],
            ph["lat_us"]["p50"], ph["error_count"]))
    return "; ".join(parts) + ("" if r.get("ok") else " [NOT OK]")


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def collect_runs(out):
    """runs[(workload, server)] = list of run records (one per repetition)."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "runs", "*.json"))):
        name = os.path.basename(path)[:-5]
        parts = name.split(".")
        if len(parts) != 3 or parts[1] not in SERVERS:
            continue
        workload, server, rep = parts
        base = path[:-5]
        rec = {
            "rep": int(rep),
            "result": load_json(path),
            "rc": read_text(base + ".rc", "?"),
            "stderr": read_text(base + ".err")[-2000:],
            "server_log": read_text(base + ".serverlog")[-4000:],
            "crashed": read_text(base + ".crashed"),
        }
        runs.setdefault((workload, server), []).append(rec)
    for recs in runs.values():
        recs.sort(key=lambda r: r["rep"])
    return runs


def iperf_ceiling(out):
    """Loopback TCP MiB/s per repetition: the sum over the iperf3 pairs run at once."""
    per_rep = {}
    for path in sorted(glob.glob(os.path.join(out, "runs", "iperf3.*.json"))):
        rep = os.path.basename(path).split(".")[1]
        try:
            with open(path) as f:
                j = json.load(f)
            rate = j["end"]["sum_received"]["bits_per_second"] / 8 / 2**20
        except (OSError, ValueError, KeyError):
            continue
        per_rep[rep] = per_rep.get(rep, 0) + rate
    rates = [per_rep[k] for k in sorted(per_rep)]
    return {"mib_per_s": median(rates), "samples": rates}


def phase_rows(runs, workload_order):
    """One row per (workload, phase): per-server medians and failure details."""
    order = []
    rank = {w: i for i, w in enumerate(workload_order)}
    for (workload, server), recs in sorted(runs.items(),
                                           key=lambda kv: (rank.get(kv[0][0], 99), kv[0])):
        for rec in recs:
            r = rec["result"] or {}
            for ph in r.get("phases", []):
                key = (workload, ph["name"])
                if key not in order:
                    order.append(key)
        if not any((rec["result"] or {}).get("phases") for rec in recs):
            if (workload, workload) not in order:
                order.append((workload, workload))
    rows = []
    for workload, phase in order:
        metric = PRIMARY.get(phase, "ops_per_s")
        row = {"workload": workload, "phase": phase, "metric": metric, "servers": {}}
        for server in SERVERS:
            recs = runs.get((workload, server), [])
            vals, mibs, rpcs, p50, p99, cpu_us, ccpu_us, unit = [], [], [], [], [], [], [], None
            errors, failures, problems = {}, [], []
            for rec in recs:
                r = rec["result"]
                ph = None
                if r:
                    ph = next((p for p in r.get("phases", []) if p["name"] == phase), None)
                if rec["crashed"]:
                    problems.append("rep %d: server %s" % (rec["rep"], rec["crashed"]))
                if r is None:
                    problems.append("rep %d: no result (exit %s) %s" % (
                        rec["rep"], rec["rc"], rec["stderr"][-300:]))
                    continue
                if r.get("error"):
                    problems.append("rep %d: %s" % (rec["rep"], r["error"]))
                for note in r.get("notes", []):
                    if "error" in note:
                        problems.append("rep %d: %s" % (rec["rep"], note))
                if ph is None:
                    continue
                unit = ph["unit"]
                for k, v in ph.get("errors", {}).items():
                    errors[k] = errors.get(k, 0) + v
                failures.extend(ph.get("failures", []))
                if ph["error_count"] or ph["ops"] == 0:
                    problems.append("rep %d: %d errors, %d ops" % (
                        rec["rep"], ph["error_count"], ph["ops"]))
                vals.append(ph[metric])
                mibs.append(ph["mib_per_s"])
                rpcs.append(ph["compounds_per_s"])
                p50.append(ph["lat_us"]["p50"])
                p99.append(ph["lat_us"]["p99"])
                if ph["ops"]:
                    if ph.get("server_cpu_s") is not None:
                        cpu_us.append(ph["server_cpu_s"] / ph["ops"] * 1e6)
                    ccpu_us.append(ph["client_cpu_s"] / ph["ops"] * 1e6)
            failed = bool(problems) or not vals
            row["servers"][server] = {
                "median": median(vals), "values": vals, "unit": unit,
                "mib_per_s": median(mibs), "rpc_per_s": median(rpcs),
                "lat_p50_us": median(p50), "lat_p99_us": median(p99),
                "server_cpu_us_per_op": median(cpu_us), "client_cpu_us_per_op": median(ccpu_us),
                "reps": len(recs), "failed": failed, "problems": problems[:10],
                "errors": errors, "failures": failures[:10],
            }
        d, g = row["servers"]["dfs"]["median"], row["servers"]["ganesha"]["median"]
        row["ratio"] = (d / g) if d and g else None
        rows.append(row)
    return rows


def add_ceilings(rows, ceiling):
    null_rate = {}
    for row in rows:
        if row["phase"] == "rpc-null":
            for s in SERVERS:
                null_rate[s] = row["servers"][s]["median"]
    for row in rows:
        for s in SERVERS:
            v = row["servers"][s]
            if row["phase"] in DATA_PHASES:
                c = ceiling.get("mib_per_s")
                v["of_ceiling"] = (v["mib_per_s"] / c) if c and v["mib_per_s"] is not None else None
                v["ceiling"] = "loopback TCP (iperf3)"
            elif row["phase"] != "rpc-null":
                n = null_rate.get(s)
                v["of_ceiling"] = (v["rpc_per_s"] / n) if n and v["rpc_per_s"] is not None else None
                v["ceiling"] = "own NULL RPC rate"
            else:
                v["of_ceiling"] = None
                v["ceiling"] = None


def kclient_rows(out):
    times = {}
    problems = {}
    for path in sorted(glob.glob(os.path.join(out, "kclient", "*.out"))):
        name, server, rep = os.path.basename(path)[:-4].split(".")
        rc = read_text(path[:-4] + ".rc", "?")
        text = read_text(path)
        found = re.findall(r"^TIME (\S+) ([0-9.]+)", text, re.M)
        if rc != "0":
            problems.setdefault((name, server), []).append(
                "rep %s: exit %s: %s" % (rep, rc, " | ".join(text.splitlines()[-5:])))
        for step, secs in found:
            times.setdefault((step, server), []).append(float(secs))
    steps = []
    for (step, _server) in times:
        if step not in steps:
            steps.append(step)
    rows = []
    for step in steps:
        row = {"step": step, "servers": {}}
        for s in SERVERS:
            vals = times.get((step, s), [])
            script = step.split("-")[0]
            row["servers"][s] = {"median_s": median(vals), "values": vals,
                                 "problems": problems.get((script, s), [])}
        d, g = row["servers"]["dfs"]["median_s"], row["servers"]["ganesha"]["median_s"]
        row["ratio"] = (g / d) if d and g else None  # time: ganesha/dfs, >1 = dfs faster
        # dfs with delegations off (run.sh --kclient-nodeleg), when it ran.
        nd = times.get((step, "dfs-nodeleg"), [])
        if nd:
            row["nodeleg"] = {"median_s": median(nd), "values": nd,
                              "problems": problems.get((step.split("-")[0], "dfs-nodeleg"), [])}
        rows.append(row)
    kc_problems = {"%s/%s" % k: v for k, v in problems.items()}
    return rows, kc_problems


def fmt(v, digits=0):
    if v is None:
        return "-"
    if abs(v) >= 100 or digits == 0:
        return "{:,.0f}".format(v)
    return "{:,.{}f}".format(v, digits)


def pct(v):
    return "-" if v is None else "%.0f%%" % (100 * v)


def render_table(rows, kc_rows, ceiling, meta):
    lines = []
    lines.append("| workload | metric | dfs | ganesha | dfs/ganesha | dfs of ceiling | ganesha of ceiling"
                 " | server CPU us/op dfs / ganesha | p99 latency us dfs / ganesha |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        d, g = row["servers"]["dfs"], row["servers"]["ganesha"]
        unit = d["unit"] or g["unit"] or ""
        metric = "MiB/s" if row["metric"] == "mib_per_s" else unit + "/s"

        def cell(v):
            return "FAILED" + (" (%s)" % fmt(v["median"], 1) if v["median"] else "") \
                if v["failed"] else fmt(v["median"], 1)
        ratio = "%.2fx" % row["ratio"] if row["ratio"] else "-"
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s |" % (
            row["phase"], metric, cell(d), cell(g), ratio, pct(d.get("of_ceiling")),
            pct(g.get("of_ceiling")), fmt(d["server_cpu_us_per_op"], 1),
            fmt(g["server_cpu_us_per_op"], 1), fmt(d["lat_p99_us"]), fmt(g["lat_p99_us"])))
    lines.append("")
    c = ceiling.get("mib_per_s")
    lines.append("Ceilings: loopback TCP (iperf3, one pair per CPU, 1 MiB writes) %s MiB/s; NULL RPC rate: dfs %s/s, "
                 "ganesha %s/s." % (fmt(c), *[fmt(next((r["servers"][s]["median"] for r in rows
                                                         if r["phase"] == "rpc-null"), None))
                                              for s in SERVERS]))
    if kc_rows:
        lines.append("")
        lines.append("Kernel client (Linux 6.1 in a TCG-emulated VM: ratios only), seconds, median:")
        lines.append("")
        nodeleg = any("nodeleg" in row for row in kc_rows)
        if nodeleg:
            lines.append("| step | dfs s | dfs without delegations s | ganesha s | dfs speed / ganesha |"
                         " delegations' speed-up |")
            lines.append("|---|---:|---:|---:|---:|---:|")
        else:
            lines.append("| step | dfs s | ganesha s | dfs speed / ganesha |")
            lines.append("|---|---:|---:|---:|")
        for row in kc_rows:
            d, g = row["servers"]["dfs"], row["servers"]["ganesha"]
            cells = [row["step"], "%s%s" % (fmt(d["median_s"], 2), " FAILED" if d["problems"] else "")]
            if nodeleg:
                n = row.get("nodeleg", {"median_s": None, "problems": []})
                cells.append("%s%s" % (fmt(n["median_s"], 2), " FAILED" if n["problems"] else ""))
            cells.append("%s%s" % (fmt(g["median_s"], 2), " FAILED" if g["problems"] else ""))
            cells.append("%.2fx" % row["ratio"] if row["ratio"] else "-")
            if nodeleg:
                n = row.get("nodeleg", {}).get("median_s")
                cells.append("%.2fx" % (n / d["median_s"]) if n and d["median_s"] else "-")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def chart(rows, kc_rows, path, title):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker  # noqa: F401
    except ImportError:
        print("matplotlib missing: no chart (bench/setup.sh installs python3-matplotlib)",
              file=sys.stderr)
        return False
    labels, values, colors = [], [], []
    for row in rows:
        failed = row["servers"]["dfs"]["failed"] or row["servers"]["ganesha"]["failed"]
        labels.append(row["phase"] + (" (FAILED)" if failed else ""))
        values.append(row["ratio"] or 0)
        colors.append("#c0392b" if failed else ("#2e86c1" if (row["ratio"] or 0) >= 1 else "#e67e22"))
    for row in kc_rows:
        labels.append("kclient " + row["step"] + " (TCG)")
        values.append(row["ratio"] or 0)
        colors.append("#7d3c98")
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(labels) + 1.6))
    y = list(range(len(labels)))[::-1]
    # Bars grow from 1 (parity): right when dfs does better, left when it does worse.
    shown = [v if v > 0 else 1.0 for v in values]
    ax.barh(y, [v - 1.0 for v in shown], left=1.0, color=colors)
    ax.set_yticks(y)
    ax.set_yticklabels(labels)
    ax.axvline(1.0, color="black", linewidth=1)
    ax.set_xscale("log")
    lo, hi = min(shown + [1.0]), max(shown + [1.0])
    ax.set_xlim(lo / 1.6, hi * 2.2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "%gx" % v))
    for yi, v in zip(y, values):
        ax.text(v if v > 0 else 1.0, yi, (" %.2fx" % v) if v > 0 else " no ratio",
                va="center", ha="left" if v >= 1 or v <= 0 else "right", fontsize=8)
    ax.set_xlabel("dfs / ganesha, log scale (right of 1: dfs does better; kclient: time ratio)")
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def main(out):
    meta = load_json(os.path.join(out, "meta.json")) or {}
    harness = load_json(os.path.join(out, "harness.json")) or {}
    runs = collect_runs(out)
    ceiling = iperf_ceiling(out)
    rows = phase_rows(runs, meta.get("workloads", "").split())
    add_ceilings(rows, ceiling)
    kc_rows, kc_problems = kclient_rows(out)
    table = render_table(rows, kc_rows, ceiling, meta)
    title = "dfs vs nfs-ganesha %s (FSAL VFS on tmpfs), loopback, %s CPUs, %s reps, %s" % (
        meta.get("ganesha_version", "?"), meta.get("cpus", "?"), meta.get("reps", "?"),
        meta.get("timestamp", ""))
    png = os.path.join(out, "ratios.png")
    has_chart = chart(rows, kc_rows, png, title)
    result = {"meta": meta, "harness": harness, "ceiling": {"loopback_tcp": ceiling},
              "workloads": rows, "kclient": kc_rows, "kclient_problems": kc_problems,
              "chart": png if has_chart else None}
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(out, "table.md"), "w") as f:
        f.write(table + "\n")
    print(title)
    print()
    print(table)
    problems = [(r["phase"], s, r["servers"][s]) for r in rows for s in SERVERS
                if r["servers"][s]["failed"]]
    if problems or kc_problems:
        print("\nFailures:")
        for phase, s, v in problems:
            print("  %s on %s: %s %s %s" % (phase, s, "; ".join(v["problems"]),
                                             json.dumps(v["errors"]) if v["errors"] else "",
                                             "; ".join(v["failures"][:3])))
        for k, v in kc_problems.items():
            print("  kclient %s: %s" % (k, "; ".join(v)))
    print("\nresults: %s\nchart:   %s" % (os.path.join(out, "results.json"),
                                          png if has_chart else "(none)"))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--summarize":
        print(summarize(sys.argv[2]))
    elif len(sys.argv) == 2:
        main(sys.argv[1])
    else:
        print(__doc__)
        sys.exit(2)
