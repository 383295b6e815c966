from django.apps import AppConfig, apps
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save


class RosterConfig(AppConfig):
    name = "roster"
    verbose_name = "人员与名单"

    # Every model a progress figure reads (roster.figures): saving one recounts its person
    # (roster.progress). Bulk writes send no signal and recount themselves.
    FIGURE_SOURCES = (
        "roster.Person",
        "roster.ListEntry",
        "roster.PersonClass",
        "issuance.Card",
        "issuance.BatchMember",
        "activation.ElectronicCardSigning",
    )

    def ready(self) -> None:
        from .disagreements import disagreements_keep
        from .progress import persons_recounted, recount_after_save, recount_before_save

        # A person deleted (the admin, a test) takes their figures along; the rows that
        # go with them are deleted in bulk, without signals of their own.
        person = apps.get_model("roster.Person")
        pre_delete.connect(recount_before_save, sender=person, dispatch_uid="figures-delete")
        post_delete.connect(recount_after_save, sender=person, dispatch_uid="figures-deleted")

        for label in self.FIGURE_SOURCES:
            model = apps.get_model(label)
            pre_save.connect(recount_before_save, sender=model, dispatch_uid=f"figures-{label}")
            post_save.connect(recount_after_save, sender=model, dispatch_uid=f"figures-{label}")

        # The 两方记录不一致 list follows the same writes as the counters.
        persons_recounted.connect(disagreements_keep, dispatch_uid="disagreements")
