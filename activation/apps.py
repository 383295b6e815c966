from django.apps import AppConfig


class ActivationConfig(AppConfig):
    name = "activation"
    verbose_name = "金融功能激活"
