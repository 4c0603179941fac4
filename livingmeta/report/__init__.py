"""The report stage: results.json (the machine-readable twin), the HTML report and its PDF.

* :mod:`livingmeta.report.results_json` assembles results.json from the intermediate files;
* :mod:`livingmeta.report.render` renders the self-contained HTML from results.json only;
* :mod:`livingmeta.report.svg` draws the figures as hand-written SVG (text stays text);
* :mod:`livingmeta.report.figures` writes the report's figures as standalone SVG files with an index;
* :mod:`livingmeta.report.pdf` prints the HTML to PDF with WeasyPrint (imported only there).
"""
