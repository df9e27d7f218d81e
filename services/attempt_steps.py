"""The steps of a test letter's SMTP conversation as kept with its recorded attempt.

Stored as JSON text (replies already redacted by mail.steps); a stored value that is
not a list of steps reads as no steps, never as an error.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from mail.steps import SmtpStep

__all__ = ["steps_json", "stored_steps"]


def steps_json(steps: Sequence[SmtpStep]) -> str | None:
    """The steps as stored; None when there are none."""
    if not steps:
        return None
    return json.dumps([step.as_json() for step in steps], ensure_ascii=False)


def stored_steps(text: str | None) -> tuple[SmtpStep, ...]:
    """The steps read back from the attempt's record."""
    if not text:
        return ()
    try:
        values = json.loads(text)
    except ValueError:
        return ()
    if not isinstance(values, list):
        return ()
    steps = (SmtpStep.from_json(value) for value in values)
    return tuple(step for step in steps if step is not None)
