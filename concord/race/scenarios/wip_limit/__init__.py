"""The `wip-limit` scenario: `scenario` (the coordinator: set-up, statements, check) and `program`
(what the workers run; no SQLAlchemy). Importing the package loads neither."""
