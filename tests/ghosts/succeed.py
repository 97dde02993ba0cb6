"""Ghost that reads its task from stdin and reports success with a PR url on its last line."""

import json
import os
import sys

task = json.load(sys.stdin)
assert task["task_id"] == os.environ["SPARKS_TASK_ID"]
assert os.path.exists(os.environ["SPARKS_TASK_FILE"])
print("working on", task["title"])
print(json.dumps({"outcome": "success", "summary": f"fixed {task['title']}", "pr_url": "https://example.test/pr/1"}))
