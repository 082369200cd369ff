"""Domain rules: plain functions over a SQLAlchemy session, no Flask. They raise DomainError
subclasses whose messages are lazily translated, and own their transaction boundaries."""
