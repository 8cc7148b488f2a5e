# Scores each order: its amount times SCORE_FACTOR. Reads the job's rows as JSON lines from
# SLUICE_INPUT_DIR, writes its own to SLUICE_OUTPUT_DIR.
import glob
import json
import os
import sys

factor = float(os.environ["SCORE_FACTOR"])
rows = []
for path in sorted(glob.glob(os.path.join(os.environ["SLUICE_INPUT_DIR"], "*.jsonl"))):
    with open(path) as f:
        rows += [json.loads(line) for line in f if line.strip()]
with open(os.path.join(os.environ["SLUICE_OUTPUT_DIR"], "scores.jsonl"), "w") as out:
    for r in rows:
        out.write(json.dumps({"id": r["id"], "amount": r["amount"],
                              "score": float(r["amount"]) * factor}) + "\n")
print(f"scored {len(rows)} orders", file=sys.stderr)
