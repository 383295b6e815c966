"""Proxy approvals for tests: registered and approved through the services, as a clerk would."""

import datetime
import io

from django.utils import timezone
from PIL import Image

from issuance.models import ProxyApproval, ProxyGround
from issuance.proxies import proxy_approval_approve, proxy_approval_register
from roster.models import Category, Person, PersonCategory
from tests.factories import make_id_number

GUARDIAN_ID = make_id_number(birth=datetime.date(1975, 3, 2))


def pdf_bytes() -> bytes:
    """A small PDF as a scanner writes one (header … %%EOF)."""
    return b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 5 + b"trailer\n%%EOF\n"


def scan_jpeg(size=(800, 1100)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (240, 240, 235)).save(out, format="JPEG")
    return out.getvalue()


def in_group(person: Person, category: str = Category.MINIMUM_LIVING) -> Person:
    PersonCategory.objects.get_or_create(person=person, category=category)
    return person


def register(person: Person, registrar, **overrides) -> ProxyApproval:
    today = timezone.localdate()
    fields = {
        "ground": ProxyGround.MINIMUM_LIVING,
        "requested_by_name": "张小明",
        "request_reason": "持卡人年老体弱，长期卧床，委托儿子代领代管",
        "document": pdf_bytes(),
        "document_name": "委托书.pdf",
        "custodian_name": "张小明",
        "custodian_id_number": GUARDIAN_ID,
        "custodian_relationship": "儿子",
        "custodian_is_cadre": False,
        "cadre_reason": "",
        "valid_from": today - datetime.timedelta(days=10),
        "valid_until": today + datetime.timedelta(days=365),
    }
    fields.update(overrides)
    return proxy_approval_register(person=person, acting_user=registrar, **fields)


def approved(person: Person, registrar, approver, **overrides) -> ProxyApproval:
    """A valid approval for the person naming 张小明 (GUARDIAN_ID) unless told otherwise."""
    return proxy_approval_approve(
        approval=register(person, registrar, **overrides), acting_user=approver
    )
