"""README states the account rules the code enforces: the reserved usernames (every one, no
more) and the password rules, read from the code so the two cannot drift apart."""

from __future__ import annotations

import re
from pathlib import Path

from paperboy.community import passwords
from paperboy.validation import RESERVED, username_problem

README = Path(__file__).resolve().parents[2] / "README.md"


def _accounts_section() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("**Accounts.**", 1)[1].split("Passwords are stored", 1)[0]


def test_readme_lists_exactly_the_reserved_usernames():
    section = _accounts_section()
    listed = section.split("Reserved (in any case):", 1)[1].split("- Passwords", 1)[0]
    assert set(re.findall(r"`([^`]+)`", listed)) == RESERVED
    for name in RESERVED:  # and the code does refuse each, in any case
        assert username_problem(name.upper()) is not None


def test_readme_states_the_password_rules():
    section = " ".join(_accounts_section().split())
    assert f"{passwords.MIN_LENGTH} to {passwords.MAX_LENGTH:,} characters" in section
    assert "at least 4 different characters" in section
    assert passwords.password_problem("abcdabcdabcd") is None  # 4 different
    assert passwords.password_problem("abcabcabcabc") == "The password is too repetitive."
    assert "not containing the username" in section
    assert passwords.password_problem("x-Grace-hopper-1", username="grace") is not None
    assert passwords.password_problem("x" * (passwords.MIN_LENGTH - 1)) is not None
    assert "3-32 characters" in section and username_problem("ab") is not None
