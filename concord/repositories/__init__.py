"""Repositories: data access for one aggregate each, bound to a unit of work's session.

Repositories never commit and never set the isolation level; the unit of work owns both.
"""

from concord.repositories.activity import ActivityEntry, ActivityLog, ActivityRepository, DeferredActivity
from concord.repositories.boards import BoardRepository
from concord.repositories.lists import ListRepository
from concord.repositories.tasks import TaskRepository
from concord.repositories.users import UserRepository

__all__ = [
    "ActivityEntry",
    "ActivityLog",
    "ActivityRepository",
    "BoardRepository",
    "DeferredActivity",
    "ListRepository",
    "TaskRepository",
    "UserRepository",
]
