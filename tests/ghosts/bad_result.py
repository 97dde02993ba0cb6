"""Ghost whose last line looks like a result but is not valid JSON."""

print('{"outcome": "success", "summary": ')
