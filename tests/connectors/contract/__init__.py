"""The shared connector contract suite.

``targets`` is imported first: the per-provider target modules (``salesforce``) subclass
its ``Target`` and it lists them in ``TARGETS``, so importing one of them alone must not
start the circle from the wrong end.
"""

from tests.connectors.contract import targets as targets
