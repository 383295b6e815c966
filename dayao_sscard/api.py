"""The JSON API's common ground: session login, the role's permission, and every answer
JSON with a Chinese ``"detail"`` when something is refused.

A counter system signs in as the web pages do (a session cookie) and sends the CSRF token
in ``X-CSRFToken``; a refusal is never an HTML page or a redirect to the login form:

- 401 not signed in (the session expired: sign in again),
- 403 the role may not (or the CSRF token is missing, see ``csrf_failure``),
- 404 unknown, or outside the caller's scope (the two are not told apart),
- 405 the wrong method, 400 a malformed request, 409 refused by the rules of the record.
"""

import json
from collections.abc import Callable, Iterable
from functools import wraps

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, RawPostDataException
from django.views.csrf import csrf_failure as csrf_failure_page

from .middleware import holds_control_characters
from .permissions import may, require

NOT_SIGNED_IN = "请先登录（会话已过期或尚未登录）。"
NOT_FOUND = "未找到，或不在您的管辖范围内。"
NOT_JSON = "请求内容不是有效的JSON：请以 Content-Type: application/json 提交UTF-8编码的JSON对象。"
CSRF_REFUSED = (
    "缺少或错误的CSRF令牌：请先以GET请求本系统（如登录页或 /api/cards/卡号/）取得 csrftoken Cookie，"
    "再在请求头 X-CSRFToken 中带上它的值。"
)


class ApiError(Exception):
    """A request the API refuses with ``status`` and a Chinese ``detail``."""

    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


def json_response(data, status: int = 200, **kwargs) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False}, **kwargs)


def json_detail(status: int, detail: str, **kwargs) -> JsonResponse:
    return json_response({"detail": detail}, status=status, **kwargs)


def api_view(*, methods: Iterable[str], actions: Iterable[str] = (), not_found: str = NOT_FOUND):
    """A JSON endpoint answering ``methods`` to signed-in users whose role may do one of
    ``actions`` at all (the object's own question is the selector's and the service's)."""
    allowed = tuple(methods)
    wanted = tuple(actions)

    def decorator(view: Callable[..., HttpResponse]):
        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.is_authenticated:
                # 401 wants a challenge; a session is the only way in, named as such.
                response = json_detail(401, NOT_SIGNED_IN)
                response["WWW-Authenticate"] = 'Session realm="dayao-sscard"'
                return response
            if request.method not in allowed:
                return json_detail(
                    405,
                    f"本接口不支持 {request.method} 请求，请使用 {'、'.join(allowed)}。",
                    headers={"Allow": ", ".join(allowed)},
                )
            try:
                if wanted and not any(may(request.user, action) for action in wanted):
                    require(request.user, wanted[0])
                return view(request, *args, **kwargs)
            except ApiError as refused:
                return json_detail(refused.status, refused.detail)
            except Http404:
                return json_detail(404, not_found)
            except PermissionDenied as refused:
                return json_detail(403, str(refused) or "您没有权限办理此事项。")

        return wrapped

    return decorator


def json_object_from(request: HttpRequest) -> dict:
    """The request body as a JSON object, or ``ApiError(400)`` saying what is wrong with it."""
    try:
        body = request.body
    except RequestDataTooBig:
        raise ApiError(400, "请求内容过大。") from None
    except RawPostDataException:
        # A multipart form was already read as such (by the middleware): not JSON anyway.
        raise ApiError(400, NOT_JSON) from None
    if not body.strip():
        raise ApiError(400, '请求内容为空：请以JSON对象提交，如 {"event": "issued", …}。')
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise ApiError(400, NOT_JSON) from None
    if not isinstance(data, dict):
        raise ApiError(400, "请求内容必须是一个JSON对象（以 { 开头）。")
    return data


def text_field(data: dict, key: str, label: str, *, max_length: int) -> str:
    """An optional string field: absent or null is empty; stripped; length and characters checked."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApiError(400, f"字段“{key}”（{label}）必须是字符串。")
    value = value.strip()
    if len(value) > max_length:
        raise ApiError(
            400, f"字段“{key}”（{label}）过长：最多{max_length}个字符，收到{len(value)}个。"
        )
    if holds_control_characters(value):
        raise ApiError(400, f"字段“{key}”（{label}）含有无法识别的控制字符，请删除后重新提交。")
    return value


def bool_field(data: dict, key: str, label: str) -> bool:
    """An optional JSON boolean: ``true``/``false`` only (not "true", 1 or "是"); absent is false."""
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ApiError(400, f"字段“{key}”（{label}）必须是JSON布尔值 true 或 false。")
    return value


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals in the API's own form; the web pages keep Django's page (403_csrf.html)."""
    match = getattr(request, "resolver_match", None)
    if match is not None and "api" in match.namespaces:
        return json_detail(403, CSRF_REFUSED)
    return csrf_failure_page(request, reason=reason)
