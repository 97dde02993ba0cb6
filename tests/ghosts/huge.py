"""Ghost that prints 50 MB of output before its result line."""

import sys

line = b"x" * 1023 + b"\n"
for _ in range(50 * 1024):
    sys.stdout.buffer.write(line)
sys.stdout.buffer.write(b'{"outcome": "success", "summary": "done after a lot of output"}\n')
