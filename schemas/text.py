"""Text that can be stored: PostgreSQL text cannot hold NUL characters."""

NO_NUL_PATTERN = r"^[^\x00]*$"
