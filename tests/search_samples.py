"""A small dump of Kazakh and Russian releases for the search tests (the sample dumps are
English but for two Russian items): Kazakh suffixes, Russian word forms, ё and е."""

from datetime import date
from pathlib import Path

from feeds.dumps.dumpwrite import DumpItem, write_dump

LINK = "https://www.gov.kz/memleket/entities/{agency}/press/news/details/{id}?lang={lang}"

ITEMS = [
    DumpItem(
        "Облыста жаңа мектептер ашылды",
        date(2026, 1, 11),
        "Биыл облыста үш жаңа мектеп салынды. Мектептердің құрылысы мерзімінде аяқталды, "
        "оқушылар жаңа ғимараттарға көшті.",
        LINK.format(agency="edu", id=9_000_001, lang="kk"),
    ),
    DumpItem(
        "Салық төлеушілерге арналған семинар өтті",
        date(2026, 1, 11),
        "Мемлекеттік кірістер департаменті салықтар мен декларациялар туралы семинар өткізді. "
        "Семинарға мектеп директорлары да қатысты.",
        LINK.format(agency="kgd-almaty", id=9_000_002, lang="kk"),
    ),
    DumpItem(
        "Налоговые проверки в Алматы",
        date(2026, 1, 10),
        "Департамент государственных доходов напомнил предпринимателям об уплате налогов. "
        "Налоги нужно платить вовремя. У здания департамента поставили новогоднюю ёлку.",
        LINK.format(agency="kgd-almaty", id=9_000_003, lang="ru"),
    ),
    DumpItem(
        "В столице установили главную елку страны",
        date(2026, 1, 9),
        "На главной площади столицы установили новогоднюю елку высотой 25 метров. "
        "Налог на это не взимается.",
        LINK.format(agency="astana", id=9_000_004, lang="ru"),
    ),
]


def write_search_dump(folder: Path) -> Path:
    path = folder / "search-kk-ru.txt"
    path.write_text(write_dump("Жаңалықтар", ITEMS), encoding="utf-8")
    return path
