"""Two-language user-facing text: Russian by default, English on request.

A message is written once, in both languages, where it is raised (``Text``);
the language of a request is chosen from its ``Accept-Language`` header
(``negotiate``) and applied only when the message is rendered for a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["DEFAULT_LANG", "Lang", "Text", "negotiate"]

Lang = Literal["ru", "en"]
DEFAULT_LANG: Lang = "ru"


@dataclass(frozen=True, slots=True)
class Text:
    """A message in Russian and English."""

    ru: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.ru

    def format(self, **params: object) -> Text:
        return Text(self.ru.format(**params), self.en.format(**params))


def negotiate(accept_language: str | None) -> Lang:
    """Pick "en" when the header prefers English over Russian, else "ru".

    Only the two languages the service speaks compete; other languages in the
    header are ignored, and a header naming neither gives Russian.
    """
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in ("ru", "en"):
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        lang: Lang = "en" if primary == "en" else "ru"
        candidate = (quality, -position, lang)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else DEFAULT_LANG
