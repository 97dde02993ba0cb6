"""Ghost that prints binary garbage and exits 0."""

import os
import sys

sys.stdout.buffer.write(os.urandom(4096) + b"\x00\xff\xfe")
