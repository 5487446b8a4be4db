"""The real-time wallboard at ``/wallboard``: calls waiting, agents by state and the day's KPIs, pushed.

- :mod:`hotline.wallboard.board`: the state (pure), fed by AMI events and rollup differences.
- :mod:`hotline.wallboard.web`: :func:`~hotline.wallboard.web.setup`, the page and its websocket.

The page itself is ``hotline/web/static/wallboard.{html,css,js}`` (no build step).
"""
