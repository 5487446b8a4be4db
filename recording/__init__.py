"""Call recordings for QC: capture, index, search, listen, sample, score.

The foundation only reserves the package; the recording feature registers itself
through ``feature`` like the others once it exists.
"""
