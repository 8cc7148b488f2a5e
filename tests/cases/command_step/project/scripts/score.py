# A team's own step: reads its argument and environment, says what it did, and sets figures.
import json
import os
import sys

day = sys.argv[sys.argv.index("--day") + 1]
print(f"scoring {day} in {os.path.basename(os.getcwd())} as step {os.environ['SLUICE_STEP']}")
print(f"token is {os.environ.get('API_TOKEN', 'unset')}")
print("a warning on stderr", file=sys.stderr)
print(json.dumps({"sluice": {"rows": 12, "day": day}}))
sys.exit(int(os.environ.get("EXIT", "0")))
