"""The web app's pages, one module per area; each has a ``router`` using ``WebRoute``."""

UI_PREFIX = "/ui"
