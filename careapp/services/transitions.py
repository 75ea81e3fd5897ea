"""Run the state tables: every change of state is one compare-and-set UPDATE.

``change_state`` moves a record only if it is still in a state the action may start from,
and checks the row count: of two requests racing to cancel one booking, one moves it and
frees the place; the other changes nothing and learns the state the winner left.
"""

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from careapp.extensions import db
from careapp.models.states import Move, StateTable
from careapp.services.errors import CareappError


class AlreadyMoved(CareappError):
    """The record is in no state the action may start from (another request moved it)."""

    def __init__(self, table: StateTable, action: str, state: str):
        super().__init__(f"{table.name}: cannot {action} from {state}")
        self.action = action
        self.state = state


def change_state(record, table: StateTable, action: str, **values) -> Move:
    """Move ``record`` by ``action`` (also writing ``values``) and return the move.

    Raises AlreadyMoved, with the state read after the race, when the record is no longer in
    a state the action may start from; nothing is written then.
    """
    step = table[action]
    model = type(record)
    statement = (
        sa.update(model)
        .where(model.id == record.id, model.status.in_(step.sources))
        .values(status=step.target, **values)
        .execution_options(synchronize_session=False)
    )
    if db.session.execute(statement).rowcount != 1:
        db.session.refresh(record, ["status"])
        raise AlreadyMoved(table, action, record.status)
    for name, value in {"status": step.target, **values}.items():
        set_committed_value(record, name, value)
    return step
