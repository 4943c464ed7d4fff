"""The `counter` scenario: `scenario` (the coordinator: set-up, statements, check), `program`
(what the workers run; no SQLAlchemy) and `http` (the same race through the API, for
``concord race --via``). Importing the package loads none of them."""
