"""Daily, weekly and monthly reports (HTML with inline SVG charts, CSV), from the KPI definitions.

- :mod:`hotline.reports.model`: periods and :func:`~hotline.reports.model.build_report`.
- :mod:`hotline.reports.html`, :mod:`hotline.reports.svg`: the self-contained page and its charts.
- :mod:`hotline.reports.csvfiles`: the CSV files; :mod:`hotline.reports.cli`: ``hotline report``.
- :mod:`hotline.reports.facts`: the queue attempts of a window, one source per call.
"""
