"""gunicorn settings for the naive side of ``bench/load.py``: figures counted live.

Every reader of the counters (``roster.progress``) goes through ``_stored()``; in this
server it counts the whole county from scratch (``count_figures`` over every person) on
each call, as the pages did before the counters. Bench only: no URL or setting of the
application changes.
"""

import os

# What bench/load.py looks for to lower the priority of this server's PostgreSQL backends.
APPLICATION_NAME = "dayao-naive"


def post_worker_init(worker):
    from django.db import connections, transaction

    from roster import progress
    from roster.models import Person

    def live_counts(counters=None):
        # The whole county whatever rows were asked for: the readers keep the user's scope
        # (progress.in_scope). With the settings figures_rebuild counts the county with
        # (work memory, no JIT).
        with transaction.atomic(), progress._counting_the_county():
            return progress.count_figures(Person.objects.all())

    progress._stored = live_counts
    if os.environ.get("NAIVE_LOW_PRIORITY"):
        # Side by side, the naive counts take whatever CPU the application leaves them
        # (bench/load.py lowers their backends' priority too), instead of both cores.
        os.nice(19)
        connections["default"].settings_dict["OPTIONS"]["application_name"] = APPLICATION_NAME
