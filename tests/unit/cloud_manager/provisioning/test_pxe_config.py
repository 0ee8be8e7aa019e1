from __future__ import annotations

import re

import pytest

from cloud_manager.provisioning.pxe_config import (
    DEFAULT_TEMPLATE,
    MAC_PATTERN,
    TemplateError,
    file_name,
    normalize_mac,
    render,
)


@pytest.mark.parametrize("spelling", ["AA:BB:CC:DD:EE:0F", "aa-bb-cc-dd-ee-0f", "aabbccddee0f",
                                      " aa:bb:cc:dd:ee:0f "])
def test_usual_spellings_of_a_mac_are_one_mac(spelling):
    assert normalize_mac(spelling) == "aa:bb:cc:dd:ee:0f"
    assert file_name(spelling) == "01-aa-bb-cc-dd-ee-0f"


@pytest.mark.parametrize("text", ["aa:bb:cc:dd:ee", "aa:bb-cc:dd:ee:ff", "gg:bb:cc:dd:ee:ff",
                                  "aa:bb:cc:dd:ee:ff:00", ""])
def test_what_is_no_mac_is_refused_by_the_function_and_the_api_pattern(text):
    with pytest.raises(ValueError, match="not a MAC address"):
        normalize_mac(text)
    assert not re.match(MAC_PATTERN, text)


def test_the_default_template_boots_the_installer_for_that_node():
    text = render(DEFAULT_TEMPLATE, "compute7", "AA-BB-CC-DD-EE-FF")
    assert "hostname=compute7" in text
    assert "BOOTIF=01-aa-bb-cc-dd-ee-ff" in text
    assert "(aa:bb:cc:dd:ee:ff)" in text
    assert "$" not in text


def test_an_operator_template_gets_every_placeholder_and_keeps_literal_dollars():
    text = render("$hostname $mac $mac_dashed $pxe_name $$HOME", "n1", "aabbccddeeff")
    assert text == "n1 aa:bb:cc:dd:ee:ff aa-bb-cc-dd-ee-ff 01-aa-bb-cc-dd-ee-ff $HOME"


@pytest.mark.parametrize(("template", "message"), [
    ("KERNEL $kernel", r"unknown placeholder \$kernel \(known: \$hostname"),
    ("cost: 5$", r"write \$\$ for a literal \$"),
])
def test_a_broken_template_says_what_is_wrong(template, message):
    with pytest.raises(TemplateError, match=message):
        render(template, "n1", "aa:bb:cc:dd:ee:ff")
