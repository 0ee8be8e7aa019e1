import pytest

from cloud_manager.ha.priority import RECOVERY_PRIORITY_KEY, resolve_priority

KEY = RECOVERY_PRIORITY_KEY


def test_key_name():
    assert KEY == "aos:recovery_priority"


def test_server_metadata_wins_over_flavor():
    priority = resolve_priority({KEY: "9"}, {KEY: "2"}, default=5)
    assert (priority.value, priority.source, priority.warning) == (9, "server", None)


def test_flavor_wins_over_default():
    priority = resolve_priority({}, {KEY: "2"}, default=5)
    assert (priority.value, priority.source) == (2, "flavor")


def test_default_when_no_key():
    priority = resolve_priority({"other": "1"}, {}, default=5)
    assert (priority.value, priority.source, priority.warning) == (5, "default", None)


@pytest.mark.parametrize("raw, expected", [("0", 0), ("10", 10), (" 7 ", 7), ("+3", 3)])
def test_valid_values(raw, expected):
    assert resolve_priority({KEY: raw}, {}, default=5).value == expected


@pytest.mark.parametrize("raw", ["11", "-1", "high", "", "7.0", "1e1", "٣"])
def test_bad_server_value_falls_back_to_flavor_with_warning(raw):
    priority = resolve_priority({KEY: raw}, {KEY: "4"}, default=5)
    assert (priority.value, priority.source) == (4, "flavor")
    assert priority.warning == (
        f"ignoring {KEY}={raw!r} in server metadata: expected an integer 0-10"
    )


def test_bad_values_everywhere_fall_back_to_default_with_both_warnings():
    priority = resolve_priority({KEY: "urgent"}, {KEY: "42"}, default=5)
    assert (priority.value, priority.source) == (5, "default")
    assert "'urgent' in server metadata" in priority.warning
    assert "'42' in flavor extra specs" in priority.warning


def test_non_string_value_is_ignored():
    priority = resolve_priority({KEY: 3}, {}, default=5)
    assert (priority.value, priority.source) == (5, "default")
    assert priority.warning is not None


@pytest.mark.parametrize("default", [-1, 11, True, "5"])
def test_bad_default_is_rejected(default):
    with pytest.raises(ValueError, match="recovery_priority"):
        resolve_priority({}, {}, default=default)
