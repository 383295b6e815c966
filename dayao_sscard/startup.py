"""Start-up of the data commands a county's scripts run several times a day."""

import gc


def resume_garbage_collection() -> None:
    """Collect again, once a data command has started.

    ``manage.py`` starts them with the collector off: Django's start-up and the command's
    modules leave some 58,000 tracked objects and next to no garbage (about 150
    collections free 2,000 objects); without them ``manage.py match`` starts about 0.03 s
    sooner. Those objects live as long as the process, so they are frozen out of every
    later collection too. In any other process (the server, the tests) the collector is
    on and this does nothing.
    """
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
