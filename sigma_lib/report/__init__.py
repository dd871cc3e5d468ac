"""The report layer: what the chapters show. It reads finished runs (:mod:`.run_report`: tables and
series of a run directory, verified; never starts the engine), judges the paper's claims
(:mod:`.claims`), formats tables and prose for the book (:mod:`.book`) and draws the figures
(:mod:`.plots`). Imports the maths, corpus and recursion layers, never the applications."""
