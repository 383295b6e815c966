"""Roles and what each may do. One place, so views and services agree."""

from django.db import models


class Role(models.TextChoices):
    COUNTY_ADMIN = "county_admin", "县人社局管理员"
    COUNTY_SUPERVISOR = "county_supervisor", "县级督导（只读）"
    TOWNSHIP_STAFF = "township_staff", "乡镇社保中心工作人员"
    VILLAGE_COLLECTOR = "village_collector", "村（社区）信息采集员"
    BANK_STAFF = "bank_staff", "合作银行网点工作人员"


COUNTY_WIDE_ROLES = frozenset({Role.COUNTY_ADMIN, Role.COUNTY_SUPERVISOR})
