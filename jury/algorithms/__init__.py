"""Pure computational core of the jury: assignment, ranking, selection, fairness study.

Nothing here imports Django, so the algorithms can be unit-tested and benchmarked in isolation.
"""
