"""Domain rules: plain functions over a SQLAlchemy session, no Flask. They raise DomainError
subclasses whose messages are lazily translated; each action runs in a unit of work
(unit_of_work.py), which owns its transaction."""
