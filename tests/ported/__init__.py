"""Two apps moved to django-turbo-cable by docs/migrating.rst, and driven in Chromium.

``channels_chat``: the Channels tutorial's chat. ``turbo_chat``: turbo-django's
chat experiment. Each follows the guide as written; where they disagree, the
guide is what changes.
"""
