"""A classified SMTP failure as it is stored with a notification: JSON, both languages."""

from __future__ import annotations

import json
from typing import Any

from i18n import Text
from mail.failures import CertificateProblem, FailureCode, SmtpFailure

__all__ = ["dump_failure", "load_failure"]


def _text(value: Text | None) -> dict[str, str] | None:
    return None if value is None else {"ru": value.ru, "en": value.en}


def dump_failure(failure: SmtpFailure) -> str:
    """The failure as JSON text (it holds no secret: replies are redacted by mail.classify)."""
    document: dict[str, Any] = {
        "code": failure.code.value,
        "field": failure.field,
        "message": _text(failure.message),
        "hint": _text(failure.hint),
        "helpUrl": failure.help_url,
        "smtpCode": failure.smtp_code,
        "smtpReply": failure.smtp_reply,
        "certificateProblem": (
            failure.certificate_problem.value if failure.certificate_problem else None
        ),
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))


def load_failure(text: str | None) -> SmtpFailure | None:
    """The stored failure, or None (nothing stored, or a record this version cannot read)."""
    if not text:
        return None
    try:
        document = json.loads(text)
        message = document["message"]
        hint = document.get("hint")
        problem = document.get("certificateProblem")
        return SmtpFailure(
            code=FailureCode(document["code"]),
            field=document.get("field"),
            message=Text(ru=str(message["ru"]), en=str(message["en"])),
            hint=Text(ru=str(hint["ru"]), en=str(hint["en"])) if hint else None,
            help_url=document.get("helpUrl"),
            smtp_code=document.get("smtpCode"),
            smtp_reply=document.get("smtpReply"),
            certificate_problem=CertificateProblem(problem) if problem else None,
        )
    except (ValueError, KeyError, TypeError):
        return None
