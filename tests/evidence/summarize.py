#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
#
# tests/evidence/summarize.py - the summary of an evidence run
# (tests/evidence/run.sh, docs/calibrate.md): per scenario and repeat the
# measured and predicted (uncalibrated, calibrated) total time and
# downtime, and over every repeat of every scenario whose expected outcome
# is a completed migration the 90th percentile (nearest rank) of
#   total time  |pred - meas| / meas                  target <= 10%
#   downtime    |pred - meas| / max(0.15 meas, 10 ms)  target <= 1
# (the second is the downtime target "<= max(15%, 10 ms)" as one score).
# Usage: summarize.py OUTDIR SCENARIO.ini ...   writes OUTDIR/summary.md
# and OUTDIR/summary.json from OUTDIR/runs/NAME.json.
import configparser
import json
import math
import os
import sys


def p90(values):
    """Nearest-rank 90th percentile; None for no values."""
    v = sorted(values)
    return v[math.ceil(0.9 * len(v)) - 1] if v else None


def expected_outcome(path):
    cp = configparser.ConfigParser(inline_comment_prefixes=("#", ";"))
    cp.read(path)
    return cp.get("expect", "outcome", fallback="completed").strip()


def main():
    out, scenarios = sys.argv[1], sys.argv[2:]
    rows, excluded = [], []
    for path in scenarios:
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            doc = json.load(open(os.path.join(out, "runs", name + ".json")))
        except (OSError, ValueError) as e:
            # The run left no result: every repeat counts as failed.
            doc = {"runs": [{"repeat": 0, "outcome": "no result",
                             "error": str(e)}]}
        exp = expected_outcome(path)
        cal = (doc.get("calibrated") or {}).get("predicted") or {}
        unc = doc.get("predicted") or {}
        if exp != "completed":
            excluded.append({"scenario": name, "expected": exp,
                             "outcomes": [r.get("outcome")
                                          for r in doc.get("runs", [])]})
            continue
        for r in doc.get("runs", []):
            m = r.get("measured") or {}
            row = {"scenario": name, "repeat": r.get("repeat"),
                   "outcome": r.get("outcome"), "error": r.get("error"),
                   "point": (doc.get("calibrated") or {}).get("point")}
            for key in ("total_time_s", "downtime_s"):
                row[key] = {"measured": m.get(key),
                            "uncalibrated": unc.get(key),
                            "calibrated": cal.get(key)}
            rows.append(row)

    def errs(which, key):
        out_rel, out_score = [], []
        for r in rows:
            meas, pred = r[key]["measured"], r[key][which]
            if r["outcome"] != "completed" or meas is None or pred is None:
                out_rel.append(math.inf)      # a failed repeat counts
                out_score.append(math.inf)
                continue
            out_rel.append(abs(pred - meas) / meas if meas > 0 else math.inf)
            out_score.append(abs(pred - meas) / max(0.15 * meas, 0.010))
        return out_rel, out_score

    stats = {}
    for which in ("uncalibrated", "calibrated"):
        tot, _ = errs(which, "total_time_s")
        drel, dscore = errs(which, "downtime_s")
        dabs = [abs(r["downtime_s"][which] - r["downtime_s"]["measured"])
                if r["outcome"] == "completed" and
                r["downtime_s"]["measured"] is not None else math.inf
                for r in rows]
        stats[which] = {"n": len(rows), "p90_total_time_rel": p90(tot),
                        "p90_downtime_rel": p90(drel),
                        "p90_downtime_abs_s": p90(dabs),
                        "p90_downtime_score": p90(dscore)}
    cal = stats["calibrated"]
    verdict = {"total_time": cal["p90_total_time_rel"] <= 0.10,
               "downtime": cal["p90_downtime_score"] <= 1.0}
    summary = {"stats": stats, "targets_met": verdict, "runs": rows,
               "excluded": excluded}
    json.dump(summary, open(os.path.join(out, "summary.json"), "w"),
              indent=1, sort_keys=True)

    def pc(x):
        return "-" if x is None or not math.isfinite(x) else "%.1f%%" % (
            100 * x)

    def t(x, unit=1e3, fmt="%.1f ms"):
        return "-" if x is None else fmt % (x * unit)

    lines = ["# Prediction error with calibration (evidence run)", "",
             "Produced by `bash tests/evidence/run.sh` (docs/calibrate.md); "
             "load figures in `load.txt`, the profile in "
             "`host-profile.ini`.", "",
             "| | uncalibrated | calibrated | target |", "|---|---|---|---|",
             "| repeats in the statistics | %d | %d | |" % (
                 stats["uncalibrated"]["n"], cal["n"]),
             "| p90 total-time error | %s | %s | <= 10%% |" % (
                 pc(stats["uncalibrated"]["p90_total_time_rel"]),
                 pc(cal["p90_total_time_rel"])),
             "| p90 downtime error | %s | %s | |" % (
                 pc(stats["uncalibrated"]["p90_downtime_rel"]),
                 pc(cal["p90_downtime_rel"])),
             "| p90 downtime error, absolute | %s | %s | |" % (
                 t(stats["uncalibrated"]["p90_downtime_abs_s"]),
                 t(cal["p90_downtime_abs_s"])),
             "| p90 downtime score: error / max(15%%, 10 ms) | %.2f | %.2f "
             "| <= 1 |" % (stats["uncalibrated"]["p90_downtime_score"],
                           cal["p90_downtime_score"]), "",
             "Targets met with calibration: total time %s, downtime %s." % (
                 "yes" if verdict["total_time"] else "NO",
                 "yes" if verdict["downtime"] else "NO"), "",
             "| scenario | repeat | point | total measured | uncal. | cal. "
             "| downtime measured | uncal. | cal. |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        tt, dt = r["total_time_s"], r["downtime_s"]
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["scenario"], r["repeat"], r["point"] or "-",
            t(tt["measured"], 1, "%.3f s"), t(tt["uncalibrated"], 1, "%.3f s"),
            t(tt["calibrated"], 1, "%.3f s"), t(dt["measured"]),
            t(dt["uncalibrated"]), t(dt["calibrated"])))
    for e in excluded:
        lines += ["", "Left out of the statistics: %s (expected outcome %s; "
                  "measured %s): no completed live migration to time." % (
                      e["scenario"], e["expected"],
                      ", ".join(str(o) for o in e["outcomes"]))]
    open(os.path.join(out, "summary.md"), "w").write("\n".join(lines) + "\n")
    print("\n".join(lines[:16]))


main()
