"""Orchestration: the chains of stages that the commands run, on one machine or many.

``grid`` expands a grid file into cells and runs them with an executor (``executors``: a local process pool or Ray),
recording each cell's outcome and putting the results on the board; ``cell`` is one cell's chain (pack, Backward
Synthesis for the split, the method's or submission's traces, evaluation). See docs/grid.md."""

from __future__ import annotations

from .executors import LocalExecutor, RayExecutor, make_executor
from .grid import Cell, GridRun, expand, load_grid, run_grid

__all__ = ["Cell", "GridRun", "LocalExecutor", "RayExecutor", "expand", "load_grid", "make_executor", "run_grid"]
