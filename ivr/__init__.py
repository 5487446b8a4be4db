"""The IVR feature: hotline menus driven over FastAGI.

Exposes ``feature`` (a :class:`hotline.feature.Feature`). The routes it registers
are named in :mod:`hotline.names` so that the shipped dialplans agree with them.
"""

from ivr.feature import feature

__all__ = ["feature"]
