"""Open the report's pages in headless Chromium: load time and console errors (a benchmark, not a test).

    PYTHON_WITH_SELENIUM benchmarks/bench_report_browser.py REPORT_DIR [--runs 3] [--pages 3]

REPORT_DIR is a results/report/ folder (or a published reports/<version>/) made by the report job, e.g. by
``benchmarks/bench_report.py --keep DIR`` (DIR/N1000_A50/results/report). Opens report.html (the summary
page in the layout in pages) and the first ``--pages`` pages that pages/index.csv lists, each ``--runs``
times in a fresh headless Chromium through chromedriver, and prints per page: its size, the time from
navigation start to the load event (Navigation Timing: ``loadEventEnd - startTime``) and to the first
contentful paint, the number of DOM elements, and every message the browser console logged at level
SEVERE (errors). Target (issue: a 1,000-study living review): the summary page loads in under 2 s with no
console errors.

Needs what the project does not: Chromium and chromedriver (Debian packages ``chromium``,
``chromium-driver``) and the Python package ``selenium`` (PyPI), which is not among the project's pins:
install it in a separate environment (``python3 -m venv /tmp/browser && /tmp/browser/bin/pip install
selenium``) and run this script with that environment's Python; it imports nothing from livingmeta.

Figures (2026-12-05, Chromium 156, selenium 4.51.0, the 1,000 x 50 review of bench_report.py, 3 runs):
report.html (summary page, 0.14 MB, 2,199 elements) loads in 0.15 s, an analysis page (0.3 MB) in 0.2 s,
pages/studies.html (3.8 MB, 50,219 elements) in 0.7 s, an appendix page of 100 studies in 0.25 s; no
console errors. The one-page report.html of the same review (21.3 MB, 385,498 elements): 7.2 s.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-extensions", "--window-size=1280,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    for binary in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(binary).exists():
            options.binary_location = binary
            break
    driver_path = next((p for p in ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver") if Path(p).exists()), None)
    return webdriver.Chrome(options=options, service=Service(driver_path) if driver_path else None)


def measure(path: Path, runs: int) -> dict:
    loads, paints, elements, errors = [], [], 0, []
    for _ in range(runs):
        driver = browser()  # a fresh browser each time: nothing cached
        try:
            driver.get(path.resolve().as_uri())
            timing = driver.execute_script(
                "const n = performance.getEntriesByType('navigation')[0];"
                "const p = performance.getEntriesByName('first-contentful-paint')[0];"
                "return [n.loadEventEnd - n.startTime, p ? p.startTime : null,"
                " document.getElementsByTagName('*').length];")
            loads.append(timing[0] / 1000)
            if timing[1] is not None:
                paints.append(timing[1] / 1000)
            elements = timing[2]
            errors += [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        finally:
            driver.quit()
    return {"load": loads, "paint": paints, "elements": elements, "errors": sorted(set(errors))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("report_dir", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--pages", type=int, default=3)
    a = ap.parse_args()
    try:
        import selenium  # noqa: F401
    except ImportError:
        sys.exit("selenium is not installed in this Python: see the docstring (a separate environment)")
    targets = [a.report_dir / "report.html"]
    index = a.report_dir / "pages" / "index.csv"
    if index.is_file():
        with open(index, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        chosen = rows[:a.pages] + [r for r in rows[a.pages:] if r["file"].startswith(("studies", "appendix-1."))]
        targets += [a.report_dir / "pages" / r["file"] for r in chosen]
    failed = False
    for path in targets:
        m = measure(path, a.runs)
        load = statistics.median(m["load"])
        paint = statistics.median(m["paint"]) if m["paint"] else float("nan")
        name = path.relative_to(a.report_dir)
        print(f"{str(name):42s} {path.stat().st_size / 1e6:6.2f} MB  load {load:5.2f} s (median of {a.runs}; "
              f"max {max(m['load']):.2f})  first paint {paint:5.2f} s  {m['elements']:6d} elements  "
              f"console errors: {len(m['errors'])}")
        for message in m["errors"]:
            print(f"    {message}")
        if path.name == "report.html" and (load >= 2.0 or m["errors"]):
            failed = True
    print("summary page: " + ("NOT within the target (load < 2 s, no console errors)" if failed
                              else "within the target (load < 2 s, no console errors)"))


if __name__ == "__main__":
    main()
