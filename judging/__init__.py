"""Judging (评审): scorecards → rounds (assign) → score → rank → decide, and Excel sheets for judges.

scorecards  how entries are judged, as data (the edition's scorecards.yaml)
rounds      open a round for an award and a stage, assign judges, follow progress, close
score       a judge's conflict declaration and scorecard (draft, then submitted)
compare     the quantified comparison of the entries' data, with percentiles
rank        weighted totals, per-dimension means, spread, z-score per judge, ranking with ties
decide      the committee's decisions (statuses, entrants told) and the finalists list
sheets      a judge's scoring sheet in Excel, written and read back
remind      mail to judges who are behind
"""

from judging.models import Assignment, Decision, Round
from judging.rounds import JudgingError
from judging.scorecards import Scorecards, load_scorecards

__all__ = ["Assignment", "Decision", "JudgingError", "Round", "Scorecards", "load_scorecards"]
