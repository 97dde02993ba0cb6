"""Ghost that fails: exit status 3 with a reason on stderr."""

import sys

sys.stdin.read()
print("tests failed after the change; rolled back", file=sys.stderr)
sys.exit(3)
