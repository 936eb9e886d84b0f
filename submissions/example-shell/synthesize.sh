#!/bin/sh
# Example RECON-Bench submission in POSIX shell + awk: one trace per training record.
# Input:  $RECONBENCH_INPUT/train.jsonl  (one JSON record per line: id, context[{speaker,text}], action, ...)
# Output: $RECONBENCH_OUTPUT/traces.jsonl (one {"id": ..., "trace": ...} per record, every id exactly once)
set -eu
awk '
  {
    # ids are plain ASCII without quotes (pattern <pack>/<user>/<key>), so a regex finds them; a real method
    # would parse the JSON properly
    if (!match($0, /"id":"[^"]*"/)) { print "no id on line " NR > "/dev/stderr"; exit 1 }
    id = substr($0, RSTART + 6, RLENGTH - 7)
    turns = gsub(/"speaker":"/, "&")
    printf "{\"id\":\"%s\",\"trace\":\"The user replies after %d earlier turns and answers the point just made.\"}\n", id, turns
  }
' "$RECONBENCH_INPUT/train.jsonl" > "$RECONBENCH_OUTPUT/traces.jsonl"
echo "example-shell: wrote $(wc -l < "$RECONBENCH_OUTPUT/traces.jsonl") traces" >&2
