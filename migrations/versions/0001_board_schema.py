"""The task board: users, boards, task_lists, tasks, activity.

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Hand-written to match concord.models exactly (tests/test_migrations.py compares them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _id() -> sa.Column:
    return sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False)


def _created_at(name: str = "created_at") -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    op.create_table(
        "users",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        _created_at(),
        sa.CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_users_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "boards",
        _id(),
        sa.Column("name", sa.Text(), nullable=False),
        _created_at(),
        sa.CheckConstraint("length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_boards_name_not_blank")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_boards")),
    )
    op.create_table(
        "task_lists",
        _id(),
        sa.Column("board_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("wip_limit", sa.Integer(), nullable=True),
        _created_at(),
        sa.CheckConstraint(
            "length(btrim(name)) BETWEEN 1 AND 200", name=op.f("ck_task_lists_name_not_blank")
        ),
        sa.CheckConstraint("position >= 0", name=op.f("ck_task_lists_position_non_negative")),
        sa.CheckConstraint(
            "wip_limit IS NULL OR wip_limit > 0", name=op.f("ck_task_lists_wip_limit_positive")
        ),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_task_lists_board_id_boards"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_lists")),
    )
    op.create_index(op.f("ix_task_lists_board_id_position"), "task_lists", ["board_id", "position"])
    op.create_table(
        "tasks",
        _id(),
        sa.Column("list_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default=sa.text("''"), nullable=False),
        sa.Column("position", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'todo'"), nullable=False),
        sa.Column("points", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("assignee_id", sa.BigInteger(), nullable=True),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        _created_at(),
        _created_at("updated_at"),
        sa.CheckConstraint("length(btrim(title)) BETWEEN 1 AND 500", name=op.f("ck_tasks_title_not_blank")),
        sa.CheckConstraint("position >= 0", name=op.f("ck_tasks_position_non_negative")),
        sa.CheckConstraint("version > 0", name=op.f("ck_tasks_version_positive")),
        sa.CheckConstraint("points >= 0", name=op.f("ck_tasks_points_non_negative")),
        sa.CheckConstraint("status IN ('todo', 'doing', 'done')", name=op.f("ck_tasks_status_known")),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["users.id"], name=op.f("fk_tasks_assignee_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["list_id"], ["task_lists.id"], name=op.f("fk_tasks_list_id_task_lists"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
    )
    op.create_index(op.f("ix_tasks_list_id_position_id"), "tasks", ["list_id", "position", "id"])
    op.create_index(op.f("ix_tasks_assignee_id"), "tasks", ["assignee_id"])
    op.create_index(
        "ix_tasks_unassigned_list_id_position",
        "tasks",
        ["list_id", "position", "id"],
        postgresql_where=sa.text("assignee_id IS NULL"),
    )
    op.create_table(
        "activity",
        _id(),
        sa.Column("board_id", sa.BigInteger(), nullable=False),
        sa.Column("task_id", sa.BigInteger(), nullable=True),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column(
            "detail",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        _created_at(),
        sa.CheckConstraint("length(btrim(action)) > 0", name=op.f("ck_activity_action_not_blank")),
        sa.ForeignKeyConstraint(
            ["board_id"], ["boards.id"], name=op.f("fk_activity_board_id_boards"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name=op.f("fk_activity_task_id_tasks"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity")),
    )
    op.create_index(op.f("ix_activity_board_id_created_at_id"), "activity", ["board_id", "created_at", "id"])
    op.create_index(op.f("ix_activity_task_id"), "activity", ["task_id"])


def downgrade() -> None:
    op.drop_table("activity")
    op.drop_table("tasks")
    op.drop_table("task_lists")
    op.drop_table("boards")
    op.drop_table("users")
