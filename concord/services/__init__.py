"""Use cases of the task board: each validates input, calls repositories and records activity.

Every function takes the unit of work first and never commits; `Concord.transact` runs one in
its own transaction and commits it.
"""
