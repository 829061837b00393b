"""The console and portal shell: base templates, view helpers and the navigation registry.

A neutral layer just above ``core``: every app that has pages (knowledge, the channels, web …)
extends ``shell/console.html`` or ``shell/portal.html``, uses the helpers in
``aftersales.shell.views`` and adds its menu entries in ``AppConfig.ready()`` with
``aftersales.shell.nav.register``. The shell imports no domain app (``make layers``).
See docs/console-shell.md.
"""
