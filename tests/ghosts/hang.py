"""Ghost that hangs with a child process; writes the child's pid to argv[1] so a test can check it died."""

import subprocess
import sys
import time

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
with open(sys.argv[1], "w") as f:
    f.write(str(child.pid))
time.sleep(600)
