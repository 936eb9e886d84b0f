"""The records stages hand each other, shared below every stage: the result file (``result``: build, validate,
digest, read, write), the verdict rules and dimensions (``verdicts``), the statistics over verdicts (``stats``:
win rates and their bootstrap CIs) and the validity-control report (``controls_report``: read, write, check, what
ranks). Evaluation writes results, the controls write reports, publishing reads both: none of them runs another
stage to do so (tests/test_imports.py)."""
