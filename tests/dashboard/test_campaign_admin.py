"""Campaign settings (工作方案) are edited in the admin: a refused change says why in Chinese."""

import pytest
from django.urls import reverse

from dayao_sscard.models import Campaign
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _form(campaign: Campaign, **changes) -> dict:
    data = {
        "name": campaign.name,
        "document_number": campaign.document_number,
        "is_active": "on",
        "custody_risk_days": campaign.custody_risk_days,
    }
    for field in Campaign._meta.fields:
        if field.name.endswith(("_deadline", "_target")) or field.name == "starts_on":
            data[field.name] = str(getattr(campaign, field.name))
    return data | changes


def test_deadlines_out_of_order_are_refused_in_chinese_not_by_the_constraints_name(
    client, county_admin
):
    """Seen in the admin: 约束 “campaign_deadlines_in_order” 是无效的 — a code, not a reason."""
    campaign = CampaignFactory()
    client.force_login(county_admin)
    url = reverse("admin:dayao_sscard_campaign_change", args=[campaign.pk])
    early = campaign.verify_deadline.replace(day=1)

    response = client.post(url, _form(campaign, produce_deadline=str(early)))

    body = response.content.decode()
    assert response.status_code == 200  # the form again, nothing saved
    assert "campaign_deadlines_in_order" not in body
    assert "截止日期" in body and "先后" in body
    campaign.refresh_from_db()
    assert campaign.produce_deadline != early


def test_a_second_current_campaign_is_refused_in_chinese(client, county_admin):
    campaign = CampaignFactory()
    client.force_login(county_admin)
    data = _form(campaign, name="第二个方案")

    response = client.post(reverse("admin:dayao_sscard_campaign_add"), data)

    body = response.content.decode()
    assert response.status_code == 200
    assert "one_active_campaign" not in body
    assert "当前方案" in body and "只能有一个" in body
    assert Campaign.objects.count() == 1
