"""The parameter schema: defaults, dotted overrides, one-line errors naming the field."""

import pytest

from sim.model.params import ParameterError, Params, build_params, describe, known_keys


def test_defaults_validate_and_every_parameter_is_described():
    p = Params()
    assert p.consumers.n > 0 and p.weight == p.consumers.population / p.consumers.n
    rows = describe()
    assert {r["key"] for r in rows} == set(known_keys())
    assert all(r["unit"] and r["description"] for r in rows)
    for key in ("consumers.n", "consumers.population", "brands.n", "season.start", "season.end", "festival.format",
                "festival.discount", "platform.policy", "logistics.capacity_per_day", "online.order_capacity_per_hour"):
        assert key in known_keys()


def test_dotted_overrides_are_type_checked():
    p = build_params({"consumers.n": 1500, "festival.discount": 0.4, "season.start": "2026-10-20"})
    assert p.consumers.n == 1500 and p.festival.discount == 0.4 and p.season.start.day == 20


@pytest.mark.parametrize("override, message", [
    ({"festival.discount": "0.4"}, "festival.discount: must be a number, not text"),
    ({"consumers.n": "1500"}, "consumers.n: must be a number, not text"),
    ({"consumers.n": True}, "consumers.n: must be a number, not a boolean"),
    ({"mechanisms.presale": "true"}, "mechanisms.presale: must be true or false"),
    ({"mechanisms.presale": 0}, "mechanisms.presale: must be true or false"),
])
def test_types_are_strict_a_string_is_not_a_number(override, message):
    with pytest.raises(ParameterError, match=message):
        build_params(override)


@pytest.mark.parametrize(
    "override, field",
    [
        ({"consumers.n": -5}, "consumers.n"),
        ({"consumers.n": "many"}, "consumers.n"),
        ({"festival.discount": float("nan")}, "festival.discount"),
        ({"festival.discount": "nan"}, "festival.discount"),
        ({"festival.format": "triple"}, "festival.format"),
        ({"platform.policy": "gmv_rank+bribes"}, "platform.policy"),
        ({"consumers.bogus": 1}, "consumers.bogus"),
        ({"nosuch.key": 1}, "nosuch.key"),
        ({"consumers": 1}, "consumers"),
        ({"season.end": "2026-10-01"}, "season"),
        ({"consumers.tier_shares": [0.5, 0.5, 0.5]}, "consumers.tier_shares"),
    ],
)
def test_bad_values_name_the_field_in_one_line(override, field):
    with pytest.raises(ParameterError) as err:
        build_params(override)
    message = str(err.value)
    assert message.startswith(field) and "\n" not in message


def test_policies_compose_with_plus():
    p = build_params({"platform.policy": "quality_feedback + subsidy"})
    assert p.platform.policy == "quality_feedback+subsidy"
    assert p.platform.policies == {"quality_feedback", "subsidy"}


def test_flat_round_trips():
    p = build_params({"consumers.n": 1234, "platform.policy": "small_brand_boost"})
    assert build_params(p.flat()) == p


def test_every_parameter_is_read_somewhere():
    """A parameter nothing reads still shows in `run.py params` and can be swept, with no effect
    (`logistics.transit_hours` was one). Read: an attribute access or a quoted name in the package."""
    import re
    from pathlib import Path

    source = "\n".join(p.read_text() for p in (Path(__file__).resolve().parents[1] / "sim").rglob("*.py"))
    unread = [key for key in build_params({}).flat()
              if not re.search(rf"\.{key.split('.')[1]}\b|[\"']{key.split('.')[1]}[\"']", source)]
    assert not unread, f"parameters nothing reads: {unread}"
