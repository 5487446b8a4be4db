"""Call recordings for QC: capture, index, search, listen, export, retention (docs/recordings.md).

The composition root uses :data:`feature`; ``hotline recordings ...`` comes from
:data:`recording.cli.COMMANDS`.
"""

from recording.feature import RecordingFeature, feature

__all__ = ["RecordingFeature", "feature"]
