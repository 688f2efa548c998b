"""config/agencies.toml and feeds.publish.catalog: every agency of the samples named, the tree,
readable names for unknown slugs, and an exact message for each kind of bad file."""

import re
from pathlib import Path

import pytest

from feeds.errors import SettingsError
from feeds.publish.catalog import Agencies, Agency, load_agencies, name_from_slug
from tests.conftest import PROJECT, SAMPLE_DUMPS

AGENCIES_FILE = PROJECT / "config" / "agencies.toml"
# The <agency> segment of a gov.kz link, as the samples write them.
AGENCY_IN_LINK = re.compile(r"gov\.kz/memleket/entities/([A-Za-z0-9_.-]+)/")

# Every agency of the samples and its parent, as config/agencies.toml should say.
SAMPLE_PARENTS = {
    "mfa": None,
    "mfa-washington": "mfa",
    "mfa-ljubljana": "mfa",
    "mfa-brussels": "mfa",
    "mfa-geneva": "mfa",
    "kgd-akmola": "kgd",
    "kgd-kostanay": "kgd",
    "kgd-vko": "kgd",
    "kgd-zhetysu": "kgd",
    "mod": None,
    "kvv": "mvd",
    "duisastana": "kuis",
    "economy": None,
    "tourism-vko": "vko",
    "almaty": None,
    "almaty-almaly": "almaty",
    "abay-kurchatov": "abay",
    "kostanay": None,
    "kostanai-kalasy-akimat": "kostanay",
    "kyzylorda-syrdarya": "kyzylorda",
    "vko-altay-parygin": "vko-altay",
    "aqmola-zhaksy": "aqmola",
}


@pytest.fixture(scope="module")
def agencies() -> Agencies:
    return load_agencies(AGENCIES_FILE)


def sample_agency_slugs() -> set[str]:
    return {
        slug.lower()
        for path in SAMPLE_DUMPS
        for slug in AGENCY_IN_LINK.findall(path.read_text(encoding="utf-8"))
    }


# -- the file -----------------------------------------------------------------------------


def test_the_samples_link_these_agencies() -> None:
    assert sample_agency_slugs() == set(SAMPLE_PARENTS)


def test_every_agency_of_the_samples_is_in_the_file_with_its_parent(agencies: Agencies) -> None:
    found = {slug: agencies.get(slug) for slug in sample_agency_slugs()}
    assert {slug: agency.known for slug, agency in found.items()} == dict.fromkeys(found, True)
    assert {slug: agency.parent for slug, agency in found.items()} == SAMPLE_PARENTS


def test_every_parent_is_in_the_file(agencies: Agencies) -> None:
    parents = {agency.parent for agency in agencies.all()} - {None}
    assert sorted(parent for parent in parents if parent not in agencies) == []
    assert parents == {"mfa", "minfin", "kgd", "mvd", "kuis", "almaty", "abay", "aqmola"} | {
        "kostanay",
        "kyzylorda",
        "vko",
        "vko-altay",
    }


def test_every_agency_has_three_names_and_a_kind(agencies: Agencies) -> None:
    incomplete = [a.slug for a in agencies.all() if not (a.name and a.name_ru and a.name_kk)]
    assert incomplete == []
    assert {a.kind for a in agencies.all()} == {
        "ministry",
        "embassy",
        "mission",
        "committee",
        "committee-department",
        "troops",
        "akimat",
        "city-akimat",
        "district-akimat",
        "rural-akimat",
        "department",
    }


def test_roots_in_file_order(agencies: Agencies) -> None:
    assert agencies.roots() == [
        "mfa",
        "minfin",
        "mvd",
        "mod",
        "economy",
        "almaty",
        "abay",
        "aqmola",
        "kostanay",
        "kyzylorda",
        "vko",
    ]
    assert len(agencies) == len(agencies.all()) == 31


def test_names_and_their_languages(agencies: Agencies) -> None:
    kgd = agencies.get("kgd")
    assert kgd == Agency(
        slug="kgd",
        name="State Revenue Committee of the Ministry of Finance of the Republic of Kazakhstan",
        name_ru="Комитет государственных доходов Министерства финансов Республики Казахстан",
        name_kk="Қазақстан Республикасы Қаржы министрлігінің Мемлекеттік кірістер комитеті",
        kind="committee",
        parent="minfin",
        inferred=False,
        known=True,
    )
    assert (
        kgd.name_in("kk")
        == "Қазақстан Республикасы Қаржы министрлігінің Мемлекеттік кірістер комитеті"
    )
    assert (
        kgd.name_in("ru")
        == "Комитет государственных доходов Министерства финансов Республики Казахстан"
    )
    assert kgd.name_in("en") == kgd.name
    assert kgd.name_in("de") == kgd.name
    assert Agency("x", "Some Office").name_in("ru") == "Some Office"  # no Russian name: English
    assert agencies.get("duisastana").inferred is True


# -- the tree -----------------------------------------------------------------------------


def test_descendants(agencies: Agencies) -> None:
    assert agencies.descendants("mfa") == {
        "mfa-washington",
        "mfa-ljubljana",
        "mfa-brussels",
        "mfa-geneva",
    }
    assert agencies.descendants("kgd") == {"kgd-akmola", "kgd-kostanay", "kgd-vko", "kgd-zhetysu"}
    assert agencies.descendants("minfin") == {
        "kgd",
        "kgd-akmola",
        "kgd-kostanay",
        "kgd-vko",
        "kgd-zhetysu",
    }
    assert agencies.descendants("mvd") == {"kvv", "kuis", "duisastana"}
    assert agencies.descendants("vko") == {"tourism-vko", "vko-altay", "vko-altay-parygin"}
    assert agencies.descendants("mfa-geneva") == frozenset()
    assert agencies.descendants("kgd-turkestan") == frozenset()  # unknown


def test_children_and_ancestors(agencies: Agencies) -> None:
    assert agencies.children("mvd") == ["kvv", "kuis"]
    assert agencies.children("kgd") == ["kgd-akmola", "kgd-kostanay", "kgd-vko", "kgd-zhetysu"]
    assert agencies.children("mod") == []
    assert agencies.children("nope") == []
    assert agencies.ancestors("vko-altay-parygin") == ["vko-altay", "vko"]
    assert agencies.ancestors("duisastana") == ["kuis", "mvd"]
    assert agencies.ancestors("kgd-vko") == ["kgd", "minfin"]
    assert agencies.ancestors("mfa") == []
    assert agencies.ancestors("kgd-turkestan") == ["kgd", "minfin"]  # unknown, by its prefix


# -- unknown slugs ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "name", "kind", "parent"),
    [
        ("kgd-turkestan", "State Revenue Department: Turkestan", "committee-department", "kgd"),
        ("mfa-paris", "Diplomatic mission: Paris", "embassy", "mfa"),
        ("mfa-new-york", "Diplomatic mission: New York", "embassy", "mfa"),
        (
            "kgd-vko-ridder",
            "State Revenue Department: East Kazakhstan Ridder",
            "committee-department",
            "kgd-vko",
        ),
        ("vko-altay-katonkaragay", "East Kazakhstan Altay Katonkaragay", "", "vko-altay"),
        ("almaty-bostandyk", "Almaty Bostandyk", "", "almaty"),
        ("zko-maslikhat", "West Kazakhstan Maslikhat", "maslikhat", None),
        ("shymkent_kalasy.akimat", "Shymkent City Akimat", "akimat", None),
        ("minzdrav", "Minzdrav", "", None),
    ],
)
def test_unknown_slug_gets_a_readable_name_and_a_parent_by_prefix(
    agencies: Agencies, slug: str, name: str, kind: str, parent: str | None
) -> None:
    assert agencies.get(slug) == Agency(
        slug=slug, name=name, kind=kind, parent=parent, inferred=True, known=False
    )


def test_name_from_slug_edge_cases() -> None:
    assert name_from_slug("kgd") == "State Revenue Department"
    assert name_from_slug("kgd-") == "State Revenue Department"
    assert name_from_slug("--") == "--"  # nothing readable: the slug itself


# -- bad files ----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agencies.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(SettingsError) as raised:
        load_agencies(path)
    return str(raised.value)


GOOD = '[agencies.kgd]\nname = "State Revenue Committee"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            GOOD + '[agencies.kgd-x]\nname = "X"\nparent = "nope"\n',
            "agency kgd-x: parent 'nope' is not defined",
        ),
        ('[agencies.kgd-x]\nname_ru = "Икс"\n', "agency kgd-x: missing name"),
        ('[agencies.kgd-x]\nname = "  "\n', "agency kgd-x: missing name"),
        (
            '[agencies.kgd-x]\nname = "X"\nnmae_kk = "Икс"\n',
            "agency kgd-x: unknown key 'nmae_kk' (known: name, name_ru, name_kk, kind, parent, inferred)",
        ),
        ('[agency.kgd-x]\nname = "X"\n', "unknown key 'agency' (expected [agencies.<slug>])"),
        (
            '[agencies.a]\nname = "A"\nparent = "b"\n[agencies.b]\nname = "B"\nparent = "c"\n'
            '[agencies.c]\nname = "C"\nparent = "a"\n',
            "agency a: parent cycle a -> b -> c -> a",
        ),
        ('[agencies.a]\nname = "A"\nparent = "a"\n', "agency a: parent cycle a -> a"),
        (
            '[agencies.a]\nname = "A"\ninferred = "yes"\n',
            "agency a: inferred must be true or false, got 'yes'",
        ),
        ("[agencies.a]\nname = 5\n", "agency a: name must be a string, got 5"),
        (
            '[agencies."Bad Slug"]\nname = "A"\n',
            "agency Bad Slug: not a valid slug (lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 128 characters)",
        ),
        (  # a '.' is in no gov.kz link and no route: such an agency could never be served
            '[agencies."mfa.x"]\nname = "A"\n',
            "agency mfa.x: not a valid slug (lower-case letters, digits, '-' and '_', starting with a letter or digit, at most 128 characters)",
        ),
        ('[agencies]\na = "A"\n', "agency a: expected a table [agencies.a]"),
        ('agencies = "none"\n', "agencies must be tables [agencies.<slug>]"),
        (
            "[agencies.a\n",
            "not valid TOML: Expected ']' at the end of a table declaration (at line 1, column 12)",
        ),
    ],
)
def test_bad_file_names_the_file_and_the_agency(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {message}"


def test_a_cycle_below_a_good_agency_is_named_at_its_first_member(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[agencies.top]\nname = "T"\nparent = "b"\n[agencies.b]\nname = "B"\nparent = "c"\n'
        '[agencies.c]\nname = "C"\nparent = "b"\n',
    )
    assert error_of(path) == f"{path}: agency b: parent cycle b -> c -> b"


def test_unreadable_and_undecodable_files(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert error_of(missing) == f"{missing}: cannot read agencies file: No such file or directory"
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes(b'[agencies.a]\nname = "\xff"\n')
    assert error_of(latin1) == (
        f"{latin1}: not valid TOML: 'utf-8' codec can't decode byte 0xff in position 21: "
        "invalid start byte"
    )


def test_a_small_good_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD + '[agencies.kgd-x]\nname = " X "\nkind = "committee-department"\nparent = "kgd"\n',
    )
    agencies = load_agencies(str(path))
    assert agencies.all() == [
        Agency("kgd", "State Revenue Committee"),
        Agency("kgd-x", "X", kind="committee-department", parent="kgd"),
    ]
    assert agencies.descendants("kgd") == {"kgd-x"}
    assert agencies.get("kgd-y").parent == "kgd"
    assert load_agencies(write(tmp_path, "")).all() == []  # an empty catalog is allowed
