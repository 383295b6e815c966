"""Requests refused before any view sees them."""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render

# C0 control characters but tab, line feed and carriage return: no form field takes
# them, and PostgreSQL refuses NUL in any text, so a ?q=%00 would fail as a 500.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# The JSON API (dayao_sscard/urls.py) answers in JSON, this refusal included.
API_PREFIX = "/api/"
BAD_CHARACTERS_MESSAGE = (
    "您提交的内容中含有无法识别的字符（如从其他系统复制时带入的空字符、控制字符），"
    "请删除后重新输入。"
)


class RefuseControlCharactersMiddleware:
    """Answer 400, in Chinese, to a path, parameter name or value holding a control character."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            _CONTROL.search(request.path)
            or _holds_control(request.GET)
            or (request.method == "POST" and _holds_control(request.POST))
        ):
            if request.path.startswith(API_PREFIX):
                return JsonResponse(
                    {"detail": BAD_CHARACTERS_MESSAGE},
                    status=400,
                    json_dumps_params={"ensure_ascii": False},
                )
            return render(request, "400.html", {"reason": BAD_CHARACTERS_MESSAGE}, status=400)
        return self.get_response(request)


def holds_control_characters(text: str) -> bool:
    """What this middleware refuses in forms, for values read from elsewhere (a JSON body)."""
    return bool(_CONTROL.search(text))


def _holds_control(data: QueryDict) -> bool:
    return any(
        _CONTROL.search(key) or any(_CONTROL.search(value) for value in values)
        for key, values in data.lists()
    )
