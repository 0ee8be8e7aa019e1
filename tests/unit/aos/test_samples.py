from pathlib import Path

import pytest

from aos.conf import samples

ETC = Path(__file__).resolve().parents[3] / "etc" / "aos"


@pytest.mark.parametrize("name", samples.sample_names())
def test_committed_sample_is_up_to_date(name):
    committed = (ETC / f"{name}.conf.example").read_text()
    assert committed == samples.render(name), (
        f"etc/aos/{name}.conf.example is stale: run 'make samples'"
    )


def test_module_sample_has_no_logging_options():
    text = samples.render("cloud_manager")
    assert "[node_tracker]" in text and "#mutex = 3" in text
    assert "default_log_levels" not in text
