"""Password rules whose messages Django does not give in Chinese, and the county's own.

Every place that sets a password runs AUTH_PASSWORD_VALIDATORS: staff_create (the
``create_staff`` command and the demo accounts), the admin's add and change-password
forms, the password-change page, ``changepassword`` and ``createsuperuser`` (its
non-interactive path through StaffUserManager.create_superuser).
"""

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError

# A Chinese character is a kind of its own: 山茶花开-2026 mixes three kinds.
KINDS = (
    ("大写字母", lambda c: c.isascii() and c.isupper()),
    ("小写字母", lambda c: c.isascii() and c.islower()),
    ("数字", lambda c: c.isascii() and c.isdigit()),
    ("汉字", lambda c: not c.isascii() and c.isalpha()),
    ("符号", lambda c: not c.isalnum()),
)
KIND_NAMES = "、".join(name for name, _ in KINDS)


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2's own message is untranslated: its text changed and zh-hans kept the old one."""

    def get_error_message(self) -> str:
        return f"密码太短，至少需要 {self.min_length} 个字符。"

    def get_help_text(self) -> str:
        return f"密码至少需要 {self.min_length} 个字符。"


class CharacterKindsValidator:
    """At least ``min_kinds`` of upper-case letters, lower-case letters, digits, Chinese
    characters and symbols (等级保护: passwords with a complexity requirement)."""

    def __init__(self, min_kinds: int = 3):
        self.min_kinds = min_kinds

    def validate(self, password: str, user=None) -> None:
        used = [name for name, test in KINDS if any(test(c) for c in password)]
        if len(used) < self.min_kinds:
            raise ValidationError(
                f"密码须包含{KIND_NAMES}中的至少 {self.min_kinds} 种（现在只有{len(used)}种）。",
                code="password_too_simple",
            )

    def get_help_text(self) -> str:
        return f"密码须包含{KIND_NAMES}中的至少 {self.min_kinds} 种。"
