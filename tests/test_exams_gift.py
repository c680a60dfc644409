"""The GIFT parser and writer (portal/exams/gift.py): a plain module, tested directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.exams import gift

EVERY = (Path(__file__).parent / "data" / "every_construct.gift").read_text()


def as_tuple(q):
    return (
        q.title,
        q.stem,
        [(o.text, o.correct, o.feedback) for o in q.options],
        q.feedback,
        q.category,
        q.id_number,
        q.tags,
    )


def test_every_construct_is_read_as_moodle_reads_it():
    result = gift.parse(EVERY)
    assert result.problems == []
    by_title = {q.title: q for q in result.items}
    assert [q.title for q in result.items] == [
        "Low data plans",
        "Escapes: all of them",
        "Who is buried in Grant's tomb?",
        "Grant is _____ in Grant's tomb.",
        "TF true",
        "TF false",
        "Multi line",
        "html one",
        "one-line-category-and-question",
    ]
    first = by_title["Low data plans"]
    assert first.line == 7
    assert first.stem == "Which option helps a person on a *limited* data plan join a session?"
    assert first.format == "markdown"
    assert [(o.text, o.correct) for o in first.options] == [
        ("Offer a phone dial-in number", True),
        ("Ask them to turn their camera on", False),
        ("Send a large slide deck before the session", False),
    ]
    assert first.options[0].feedback == "Voice calls use no mobile data."
    assert first.options[2].feedback == ""
    assert first.feedback == "Offer the least data-hungry channel that still works for them."
    assert first.category == "$course$/Week 3/Competency 4"
    assert gift.week_and_competency(first.category) == (3, 4)
    assert first.id_number == "w3-access-01" and first.tags == ["access", "equity"]

    escapes = by_title["Escapes: all of them"]
    assert escapes.stem == ("Braces { and }, a tilde ~, an equals = and a hash # and a backslash \\ and\na new line")
    assert [o.text for o in escapes.options] == ["right = correct", "wrong ~ wrong"]

    untitled = result.items[2]
    assert untitled.stem == "Who is buried in Grant's tomb?" and untitled.options[2].correct
    missing_word = result.items[3]
    assert missing_word.stem == "Grant is _____ in Grant's tomb."
    assert [o.text for o in missing_word.options if o.correct] == ["entombed"]

    tf_true, tf_false = by_title["TF true"], by_title["TF false"]
    assert [(o.text, o.correct, o.feedback) for o in tf_true.options] == [
        ("True", True, "Yes."),
        ("False", False, "No: it is the right time."),
    ]
    assert tf_true.feedback == "Self-disclosure is purposeful."
    assert [(o.text, o.correct) for o in tf_false.options] == [("True", False), ("False", True)]
    assert tf_false.format == "plain"

    multi = by_title["Multi line"]
    assert multi.line == 27
    assert multi.stem.startswith("This question\nspans several lines") and multi.stem.endswith("and ends here.")
    assert "comment" not in multi.stem

    html = by_title["html one"]
    assert html.format == "html" and html.category == "$course$/Week 5"
    assert gift.week_and_competency(html.category) == (5, None)
    assert html.options[0].text == "<i>Agreement</i> given freely" and html.options[1].text == "Silence"

    assert result.skipped == [
        (39, "short answer"),
        (41, "numerical"),
        (43, "matching"),
        (45, "essay"),
        (47, "description"),
        (49, "multiple choice with partial credit"),
    ]


@pytest.mark.parametrize(
    "text, line, reason",
    [
        ("::a::Question one {=yes ~no}\n\n::b::Second\nquestion {=yes ~no\n", 4, "unclosed brace"),
        ("::a::Question one {=yes ~no}\n\n\n::b::Nothing right {~yes ~no}", 4, "no correct answer"),
        ("// comment\n::a::Two right {\n=yes\n=also yes\n~no}", 2, "two correct answers"),
        ("::a::One option {=yes ~}", 1, "empty answer"),
        ("::a::Only one option {\n~yes\n}", 1, "fewer than two options"),
        ("::a::Bad \\escape here {=yes ~no}", 1, "unknown escape \\e"),
        ("::a::Stray {hello =yes ~no}", 1, "stray text"),
        ("::a::Two blocks {=yes ~no} and {=again ~no}", 1, "stray text"),
        ("::a::Closing } first {=yes ~no}", 1, "closing brace"),
        ("::a::Nested {=yes {~no}", 1, "unclosed brace"),
        ("::a title never closed {=yes ~no}", 1, "title is not closed"),
    ],
)
def test_broken_files_report_line_and_reason(text, line, reason):
    result = gift.parse(text)
    assert any(n == line and reason in message for n, message in result.problems), result.problems
    broken_titles = {"b", "a"} if "Question one" not in text else {"b"}
    assert not any(q.title in broken_titles for q in result.items)


def test_problems_and_good_items_side_by_side():
    text = "::good::Fine {=yes ~no}\n\n::bad::No right {~x ~y}\n\n::good2::Also fine {=a ~b ~c}\n"
    result = gift.parse(text)
    assert [q.title for q in result.items] == ["good", "good2"]
    assert result.problems == [(3, "no correct answer (mark the right one with =)")]


def test_more_than_six_options_is_skipped_not_a_problem():
    result = gift.parse("::seven::Pick {=1 ~2 ~3 ~4 ~5 ~6 ~7}")
    assert result.items == [] and result.problems == []
    assert result.skipped == [(1, "multiple choice with more than 6 answers")]


def test_round_trip_dump_parse():
    first = gift.parse(EVERY)
    again = gift.parse(gift.dump(first.items))
    assert again.problems == [] and again.skipped == []
    assert [as_tuple(q) for q in again.items] == [as_tuple(q) for q in first.items]


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        b"\xff\xfe{{{",
        12,
        "",
        "{",
        "}",
        "::",
        "\\",
        "{=}",
        "~~~",
        "\x00{=a ~b}",
        "$CATEGORY:",
        "// only a comment",
        "{#}",
        "::t::{T#a#b#c}",
    ],
)
def test_never_raises(garbage):
    result = gift.parse(garbage)
    assert isinstance(result.items, list) and isinstance(result.problems, list)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab =~#{}:\\\n%[]/-T>0")), max_size=80))
def test_never_raises_on_random_text(text):
    result = gift.parse(text)
    for line, message in result.problems:
        assert isinstance(line, int) and isinstance(message, str)


TEXT = st.characters(blacklist_categories=("Cc", "Cs", "Co", "Zl", "Zp"))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(TEXT, min_size=1, max_size=20).filter(
                lambda s: s.strip() and not s.strip().startswith(("//", "$", "["))
            ),
            st.text(TEXT, min_size=1, max_size=40).filter(lambda s: s.strip() and not s.strip().startswith("[")),
            st.lists(
                st.text(TEXT, min_size=1, max_size=15).filter(lambda s: s.strip() and not s.strip().startswith("[")),
                min_size=2,
                max_size=6,
            ),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_dump_then_parse_gives_the_same_items(specs):
    items = []
    for title, stem, options in specs:
        clean = [" ".join(o.split()) for o in options]
        if len(set(clean)) < len(clean) or "%" in "".join(clean)[:1]:
            continue
        items.append(
            gift.Question(
                title=" ".join(title.split()),
                stem=stem.strip(),
                options=[gift.Option(o, i == 0, "") for i, o in enumerate(clean)],
            )
        )
    result = gift.parse(gift.dump(items))
    assert result.problems == []
    assert [(q.title, q.stem, [(o.text, o.correct) for o in q.options]) for q in result.items] == [
        (q.title, q.stem, [(o.text, o.correct) for o in q.options]) for q in items
    ]


def test_a_question_of_a_type_the_test_cannot_take_is_reported_with_its_line():
    """"Unknown type" for a 40-item multiple-choice test: a question of a type Moodle knows but
    the written test does not take is listed with its line and type (Moodle imports it, so it is
    not a problem of the file), beside a broken one and the good ones around it."""
    text = (
        "::good::Fine {=yes ~no}\n"
        "\n"
        "::match::Pair them {=a -> 1 =b -> 2 =c -> 3}\n"
        "\n"
        "::num::How many weeks? {#6}\n"
        "\n"
        "::bad::Unclosed {=yes ~no\n"
    )
    result = gift.parse(text)
    assert [q.title for q in result.items] == ["good"]
    assert result.skipped == [(3, "matching"), (5, "numerical")]
    assert [line for line, _ in result.problems] == [7] and "unclosed brace" in result.problems[0][1]
