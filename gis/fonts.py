"""Find a font that draws Chinese for matplotlib maps.

matplotlib's default font (DejaVu Sans) has no Chinese glyphs: county names would render
as empty boxes with "Glyph ... missing from font" warnings. :func:`cjk_font` looks for a
CJK font among the fonts matplotlib knows and, because matplotlib caches its font list
(a font installed after the cache was built is not in it), also among the system font
files whose names look like CJK fonts. On Debian and Ubuntu, ``apt-get install
fonts-noto-cjk`` provides Noto Sans CJK SC.

When no CJK font is found, :func:`cjk_font` logs one warning per process and returns
``None``; maps are still drawn (Chinese text then shows as boxes).
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Final

from matplotlib import font_manager

__all__ = ["CJK_FAMILIES", "cjk_font", "has_cjk", "reset_cache"]

logger = logging.getLogger(__name__)

#: Families tried in order: Simplified Chinese faces first, then any CJK face that has the
#: hanzi (Japanese/Korean/Traditional faces of the same collections still cover them).
CJK_FAMILIES: Final = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
    "Heiti SC",
    "Noto Sans CJK TC",
    "Noto Sans CJK JP",
    "Noto Serif CJK SC",
    "AR PL UMing CN",
    "Droid Sans Fallback",
)

# File names of CJK fonts on common systems (used when matplotlib's cached list misses them).
_FILE_PATTERN: Final = re.compile(
    r"(notosanscjk|notoserifcjk|notosanssc|sourcehansans|wqy|wenquanyi|droidsansfallback"
    r"|msyh|simhei|pingfang|uming|ukai)", re.IGNORECASE)

_CJK_RANGE: Final = re.compile(
    r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")

_warned: list[bool] = [False]


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains CJK ideographs or CJK punctuation."""
    return _CJK_RANGE.search(text) is not None


def _known_families() -> set[str]:
    return {entry.name for entry in font_manager.fontManager.ttflist}


def _first_known() -> str | None:
    known = _known_families()
    return next((family for family in CJK_FAMILIES if family in known), None)


def _add_system_cjk_files() -> int:
    """Register CJK font files that matplotlib's cached font list does not have."""
    listed = {entry.fname for entry in font_manager.fontManager.ttflist}
    added = 0
    for path in sorted(font_manager.findSystemFonts()):
        if path in listed or not _FILE_PATTERN.search(path.rsplit("/", 1)[-1]):
            continue
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError, ValueError) as exc:  # unreadable font file
            logger.debug("skipping font %s: %s", path, exc)
            continue
        added += 1
    return added


@functools.lru_cache(maxsize=1)
def _find() -> str | None:
    family = _first_known()
    if family is None and _add_system_cjk_files():
        family = _first_known()
    return family


def cjk_font() -> str | None:
    """The family name of a CJK font matplotlib can use, or ``None``.

    The first call searches (and may register system font files with matplotlib's font
    manager); later calls return the same answer. Without a CJK font, one warning is
    logged per process.
    """
    family = _find()
    if family is None and not _warned[0]:
        _warned[0] = True
        logger.warning(
            "no CJK font found for matplotlib (tried %s, ...): Chinese names on PNG maps "
            "will show as boxes; install one, e.g. `apt-get install fonts-noto-cjk` on "
            "Debian/Ubuntu", ", ".join(CJK_FAMILIES[:4]))
    return family


def reset_cache() -> None:
    """Forget the font found and the warning given (for tests)."""
    _find.cache_clear()
    _warned[0] = False
