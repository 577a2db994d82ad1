"""The domain's root exception."""


class DomainError(ValueError):
    """A fact contradicts what the ledger already holds; the shell dead-letters it unchanged."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
