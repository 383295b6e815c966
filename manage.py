#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

# The data commands a county runs several times a day open no file and register no exit
# handler: once their output is flushed and the database connection closed, the process
# ends without the interpreter tearing down some 600 modules and every object of the
# import (0.1-0.25 s of each run, bench/day_benchmark.py).
QUICK_EXIT_COMMANDS = ("import_list", "match", "report")


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dayao_sscard.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
    if sys.argv[1:2] and sys.argv[1] in QUICK_EXIT_COMMANDS:
        _exit_without_teardown()


def _exit_without_teardown():
    import logging

    from django.db import connections

    connections.close_all()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
