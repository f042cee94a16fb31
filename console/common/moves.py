"""The small state machines (a supplier's certification, a service item's review; later
withdrawals and settlement batches) on one pattern, as orders use on a larger scale: a table
{(state, action): new state}, and a conditional UPDATE … WHERE state = the state read, so that
of two concurrent moves exactly one applies and the other is refused (DESIGN §5)."""
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class StateTable:
    field: str  # the model's state column
    moves: dict  # (state, action) -> new state
    refused: Callable  # (row, action) -> the DomainError for a move not in the table
    overtaken: Callable  # (row, action) -> the DomainError when another move came first

    def actions(self, row):
        """The actions the table allows from the row's state, in table order."""
        state = getattr(row, self.field)
        return [action for (source, action) in self.moves if source == state]

    def target(self, row, action):
        """The state `action` leads to from the row's state; refused when not in the table."""
        target = self.moves.get((getattr(row, self.field), action))
        if target is None:
            raise self.refused(row, action)
        return target

    def apply(self, row, action, values=None):
        """Move the row (with `values` written alongside) only if its state is still the one
        read; call inside the caller's transaction. Returns (from state, to state)."""
        model = type(row)
        current, target = getattr(row, self.field), self.target(row, action)
        values = {self.field: target, **(values or {})}
        moved = model.update(**values).where(model._meta.primary_key == row._pk,
                                             getattr(model, self.field) == current).execute()
        if not moved:
            raise self.overtaken(row, action)
        for name, value in values.items():
            setattr(row, name, value)
        return current, target
