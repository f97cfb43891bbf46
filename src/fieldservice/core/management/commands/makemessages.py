"""makemessages that also reads `_lazy(...)`: modules that need both gettext and gettext_lazy
import the lazy one as `_lazy`, and xgettext only knows Django's own names, so those strings never
reached the catalogue and showed in English on Chinese pages."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = [*makemessages.Command.xgettext_options, "--keyword=_lazy"]
