from django.apps import AppConfig


class DayaoSscardConfig(AppConfig):
    name = "dayao_sscard"
    verbose_name = "系统与账号"
