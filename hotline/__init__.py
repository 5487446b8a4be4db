"""hotline: the telephony backend of the Pegadaian contact center.

This package is the shared core: the AMI and FastAGI protocols and their asyncio
peers, configuration, logging, the store, KPI math, the web app factory and the
CLI. The feature packages (``ivr``, ``cti``, ``recording``) build on it and never
import each other; ``hotline.compose`` is the one place that wires them together.
"""

__version__ = "0.1.0"
