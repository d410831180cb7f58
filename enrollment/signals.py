"""What the registration authority announces; the CA listens (ca.receivers).

``holder_blocked`` puts every certificate of the holder on hold (or revokes it with the given
RFC 5280 reason); ``holder_unblocked`` releases the holds.
"""

from django.dispatch import Signal

holder_blocked = Signal()
holder_unblocked = Signal()
