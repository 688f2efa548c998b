"""Every item of the two sample dumps, written by reading the dumps by eye (not by running the parser)."""
from typing import NamedTuple


class Expected(NamedTuple):
    dump: str          # file name, e.g. "000_6e049eb9971275b2.txt"
    line: int          # 1-based line number of the title line
    section: str       # "News" or "World"
    title: str
    date: str          # ISO date "YYYY-MM-DD" of the item (from the end of the title line)
    agency: str | None # <agency> path segment of the gov.kz link, None when there is no gov.kz link
    govkz_id: str | None  # the numeric id as a string, None when no link
    link: str | None   # the full gov.kz URL exactly as in the dump (with ?lang=kk), None when no link
    other_source: str | None  # a non-gov.kz "Source:" URL cited before the gov.kz one, else None
    body_start: str    # the first 40 characters of the body text ("" when the body is only the Source line)


D0 = "000_6e049eb9971275b2.txt"
D1 = "001_805da140448cf3fc.txt"
GOV = "https://www.gov.kz/memleket/entities/"

ITEMS: tuple[Expected, ...] = (
    # ---------------------------------------------------------------- 000 / News
    # No "Source :" line at all: body ends "...constructive interaction."
    Expected(D0, 2, "News",
             "A Majilis deputy held a meeting with students in Shymkent.",
             "2026-01-10", None, None, None, None,
             "Majilis deputy and member of the People'"),
    Expected(D0, 4, "News",
             "Kazakhstan\u2019s Guardsmen Detained Nearly 18,000 Offenders",
             "2026-01-10", "kvv", "1139165",
             GOV + "kvv/press/news/details/1139165?lang=kk", None,
             "On January 10, the Republic of Kazakhsta"),
    Expected(D0, 6, "News",
             "U.S. Ambassador Julie M. Stufft presented their letter of credence to President of Kazakhstan",
             "2026-01-10", "mfa-washington", "1139161",
             GOV + "mfa-washington/press/news/details/1139161?lang=kk", None,
             "Akorda hosted the ceremony to present th"),
    Expected(D0, 8, "News",
             "Almaty Zoo announces a campaign to collect used New Year\u2019s trees",
             "2026-01-10", "almaty-almaly", "1139146",
             GOV + "almaty-almaly/press/news/details/1139146?lang=kk", None,
             "Almaty Zoo has launched an environmental"),
    # title has an EN DASH (U+2013) between Kazakh and Slovenian
    Expected(D0, 10, "News",
             "New Horizons of Kazakh\u2013Slovenian Economic Diplomacy",
             "2026-01-10", "mfa-ljubljana", "1139148",
             GOV + "mfa-ljubljana/press/news/details/1139148?lang=kk", None,
             "Ljubljana, 9 January 2026 \u2013 The Ambassad"),
    # body has an EM DASH (U+2014) after the dateline
    Expected(D0, 12, "News",
             "Belgium\u2019s University of Mons Interested in Expanding Cooperation with Kazakh Universities",
             "2026-01-10", "mfa-brussels", "1139152",
             GOV + "mfa-brussels/press/news/details/1139152?lang=kk", None,
             "Mons, 9 January 2026 \u2014 Ambassador of Kaz"),
    Expected(D0, 14, "News",
             "Kazakh Foreign Ministry and KazMunayGas Discuss Investment Attraction",
             "2026-01-10", "mfa", "1139153",
             GOV + "mfa/press/news/details/1139153?lang=kk", None,
             "Astana, January 6, 2026 \u2013 A meeting was "),  # 40th char is a space
    Expected(D0, 16, "News",
             "Tourism Industry Experts of East Kazakhstan Region Commented on the Interview of the President of the Republic of Kazakhstan",
             "2026-01-09", "tourism-vko", "1139136",
             GOV + "tourism-vko/press/news/details/1139136?lang=kk", None,
             "Following the publication of the intervi"),
    Expected(D0, 18, "News",
             "A Round Table on Tourism Development Issues Was Held",
             "2026-01-09", "tourism-vko", "1139138",
             GOV + "tourism-vko/press/news/details/1139138?lang=kk", None,
             "On January 9, 2026, a round table was he"),
    # body is only the "Source : ..." line
    Expected(D0, 20, "News",
             "The Smart Military Registration and Enlistment Office project: a certificate of fitness for military service is available on the e-Gov portal with a single click",
             "2026-01-09", "mod", "1139110",
             GOV + "mod/press/news/details/1139110?lang=kk", None,
             ""),
    # curly quotes U+201C / U+201D and apostrophe U+2019 in the title
    Expected(D0, 22, "News",
             "\u201cPeople\u2019s Accountant\u201d Campaign Launched in Ust-Kamenogorsk",
             "2026-01-09", "kgd-vko", "1139071",
             GOV + "kgd-vko/press/news/details/1139071?lang=kk", None,
             "On January 9, 2026, at the premises of t"),
    Expected(D0, 24, "News",
             "An extraordinary session of Kostanay city Maslikhat was held",
             "2026-01-09", "kostanai-kalasy-akimat", "1139072",
             GOV + "kostanai-kalasy-akimat/press/news/details/1139072?lang=kk", None,
             "An extraordinary session of the Kostanay"),
    Expected(D0, 26, "News",
             "Tax changes 2026: Key issues for healthcare organizations",
             "2026-01-09", "kgd-kostanay", "1138993",
             GOV + "kgd-kostanay/press/news/details/1138993?lang=kk", None,
             "Today, on January 9, the Department of S"),
    # body's last sentence has no full stop: "...from January 1, 2026Source : https://..."
    Expected(D0, 28, "News",
             "Reasons for refusals to transfer to the simplified declaration-based tax regime in connection with changes to the OKEDs",
             "2026-01-09", "kgd-zhetysu", "1139304",
             GOV + "kgd-zhetysu/press/news/details/1139304?lang=kk", None,
             "When transferring to the simplified decl"),
    Expected(D0, 30, "News",
             "Liability for false declaration of goods",
             "2026-01-09", "kgd-kostanay", "1138983",
             GOV + "kgd-kostanay/press/news/details/1138983?lang=kk", None,
             "Liability for false declaration of goods"),
    # the title itself contains a date (7.01.2026); the item date is the LAST token, 09.01.2026
    Expected(D0, 32, "News",
             "The day of the celebration of the Nativity of Christ on 7.01.2026 in the chapel of the village of Parygino.",
             "2026-01-09", "vko-altay-parygin", "1138873",
             GOV + "vko-altay-parygin/press/news/details/1138873?lang=kk", None,
             "Christmas Day celebration on 7.01.2025 i"),
    Expected(D0, 34, "News",
             "The focus is on digitalization and the development of artificial intelligence",
             "2026-01-09", "kyzylorda-syrdarya", "1138878",
             GOV + "kyzylorda-syrdarya/press/news/details/1138878?lang=kk", None,
             "Today, a meeting was held under the chai"),
    Expected(D0, 36, "News",
             "Residents of Semey are increasingly receiving documents through parcel terminals.",
             "2026-01-09", "abay-kurchatov", "1138966",
             GOV + "abay-kurchatov/press/news/details/1138966?lang=kk", None,
             "Citizen Service Centers (CSCs) continue "),  # 40th char is a space
    # Russian item; «Amanat» is written in Latin letters inside guillemets
    Expected(D0, 38, "News",
             "Вопросы развития села и малых городов рассмотрены в общественной приёмной Центрального аппарата партии «Amanat»",
             "2026-01-09", "economy", "1138969",
             GOV + "economy/press/news/details/1138969?lang=kk", None,
             "Вице-министр национальной экономики Бауы"),

    # ---------------------------------------------------------------- 001 / World
    # No link: body ends "...Press service of the Akim of Shymkent"
    Expected(D1, 2, "World",
             "A non-woven fabrics factory and a metal door plant opened in Shymkent.",
             "2025-12-20", None, None, None, None,
             "Shymkent celebrated the opening of two n"),
    # Russian title, English body; cites top-news.kz first, then the gov.kz link (glued together)
    Expected(D1, 4, "World",
             "«Слышащее государство» в Костанае",
             "2025-12-20", "kostanai-kalasy-akimat", "1129425",
             GOV + "kostanai-kalasy-akimat/press/news/details/1129425?lang=kk",
             "https://top-news.kz/slyshashhee-gosudarstvo-v-kostanae/",
             "What did the citizens ask for at the aki"),
    # No link: body ends "...Japanese business structures."; title has an ASCII hyphen "Asia - Japan"
    Expected(D1, 6, "World",
             "The Head of State participated in the Central Asia - Japan Business Forum",
             "2025-12-20", None, None, None, None,
             "Along with President Kassym-Jomart Tokay"),
    # English title (Latin "K-1"), Russian body (starts with CYRILLIC "К-1" and an EN DASH)
    Expected(D1, 8, "World",
             "The Navy has begun to complete the K-1 course task",
             "2025-12-20", "mod", "1129386",
             GOV + "mod/press/news/details/1129386?lang=kk", None,
             "К-1 – это базовая учебно-практическая за"),
    Expected(D1, 10, "World",
             "December 13 \u2013 Day of Penal System Officers",
             "2025-12-20", "duisastana", "1129384",
             GOV + "duisastana/press/news/details/1129384?lang=kk", None,
             "A Ceremonial Event Dedicated to the Day "),  # 40th char is a space
    Expected(D1, 12, "World",
             "Strengthening the material and technical base of health care in Kostanay region",
             "2025-12-20", "kostanay", "1129385",
             GOV + "kostanay/press/news/details/1129385?lang=kk", None,
             "Kostanay region has consistently impleme"),
    # In the dump the title starts with CYRILLIC "Р" (U+0420) in "Рreventive"; the project
    # normalizes such homoglyphs, so the expected title uses a LATIN "P".
    Expected(D1, 14, "World",
             "Preventive operation titled \u201cLegal Order\u201d",
             "2025-12-20", "duisastana", "1129377",
             GOV + "duisastana/press/news/details/1129377?lang=kk", None,
             "From December 11 to 13, an operational a"),
    # body is only the "Source : ..." line
    Expected(D1, 16, "World",
             "An open Day for parents of soldiers was held at the Almaty Military University",
             "2025-12-20", "mod", "1129374",
             GOV + "mod/press/news/details/1129374?lang=kk", None,
             ""),
    Expected(D1, 18, "World",
             "Ambassador of Kazakhstan Presents Credentials to the President of the United States",
             "2025-12-20", "mfa-washington", "1129452",
             GOV + "mfa-washington/press/news/details/1129452?lang=kk", None,
             "Washington, D.C., December 16, 2025 - Am"),
    Expected(D1, 20, "World",
             "International Monetary Fund Marks \u201cKazakhstan Day\u201d",
             "2025-12-20", "mfa-washington", "1129367",
             GOV + "mfa-washington/press/news/details/1129367?lang=kk", None,
             "Washington, DC, December 18, 2025 \u2013 The "),  # 40th char is a space
    Expected(D1, 22, "World",
             "Kazakhstan and UNDP discuss strengthening cooperation and plans for 2026",
             "2025-12-20", "mfa", "1129341",
             GOV + "mfa/press/news/details/1129341?lang=kk", None,
             "Astana, December 19, 2025 \u2013 Yerzhan Ashi"),
    Expected(D1, 24, "World",
             "President of Kazakhstan Delivers Lecture at United Nations University",
             "2025-12-20", "mfa-geneva", "1129353",
             GOV + "mfa-geneva/press/news/details/1129353?lang=kk", None,
             "President Kassym-Jomart Tokayev visited "),  # 40th char is a space
    Expected(D1, 26, "World",
             "Memorandum of Understanding between the Ministry of Foreign Affairs of the Republic of Kazakhstan and the United Nations University",
             "2025-12-19", "mfa-geneva", "1129318",
             GOV + "mfa-geneva/press/news/details/1129318?lang=kk", None,
             "In the presence of Head of State Kassym-"),
    # ASCII double quotes in the title
    Expected(D1, 28, "World",
             'Certificates were awarded to the winners of the republican action "Demand a check and win a prize!"',
             "2025-12-19", "kgd-akmola", "1129305",
             GOV + "kgd-akmola/press/news/details/1129305?lang=kk", None,
             "In April of this year, the Republican ac"),
    # No link: body ends "...Press service of the Akim of Shymkent"
    Expected(D1, 30, "World",
             "The Mayor of Shymkent met with entrepreneurs",
             "2025-12-19", None, None, None, None,
             "Shymkent Mayor Gabit Syzdykbekov held hi"),
    Expected(D1, 32, "World",
             "The Akim of Almaty met with the Ambassador Extraordinary and Plenipotentiary of the Republic of Uzbekistan",
             "2025-12-19", "almaty", "1129250",
             GOV + "almaty/press/news/details/1129250?lang=kk", None,
             "Akim of Almaty, Darkan Satybaldy, met wi"),
    Expected(D1, 34, "World",
             "For sustainable development of the agricultural sector",
             "2025-12-19", "kgd-akmola", "1129267",
             GOV + "kgd-akmola/press/news/details/1129267?lang=kk", None,
             "A meeting of the Council of agro-industr"),
    # Title lost its first letter ("oday" for "Today") - kept as is; it also contains a date
    # (December 19, 2025) before the real trailing date 19.12.2025. ASCII apostrophes.
    Expected(D1, 36, "World",
             "oday, on December 19, 2025, the head of the district Akim's office, ethics commissioner O. Bocharnikova held a meeting with the staff of the district Akim's office in the format of a dialogue platform.",
             "2025-12-19", "aqmola-zhaksy", "1129274",
             GOV + "aqmola-zhaksy/press/news/details/1129274?lang=kk", None,
             "The meeting was organized on the eve of "),  # 40th char is a space
)


# Read by eye too: the two items with a gov.kz link whose text is Russian; every other item
# with a link is English (each dump link says ?lang=kk, the scrapers' interface language).
RUSSIAN_TEXT = frozenset({"1138969", "1129386"})


def feed_link(item: Expected) -> str | None:
    """The link an entry gives: the gov.kz page in the language of the item's text."""
    if item.link is None:
        return None
    lang = "ru" if item.govkz_id in RUSSIAN_TEXT else "en"
    return item.link.replace("?lang=kk", f"?lang={lang}")
