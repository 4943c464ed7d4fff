"""Query plans of the library's named queries (to be filled by the explain work)."""
