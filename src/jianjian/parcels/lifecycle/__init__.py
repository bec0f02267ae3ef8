"""The parcel lifecycle: the only code that changes a parcel's state.

``kernel``  locking, the transition check, recording an event (and calling its ``hooks``)
``hooks``   what follows an event: the custody log line, missing-parcel cases, the outbox
``scan``    the :class:`Scan` value a scan travels in, and what intake answers
``announce`` pre-advice (one, or a manifest's many)
``intake`` / ``batch`` / ``rules``  one scan, a scan stream, and the rules both apply
``leave``   hand-over to the resident and return to the courier (one shared helper)
``ended``   pre-advice that ends: cancelled, or delivered elsewhere (door, neighbour)
``move``, ``missing``, ``recipient``  the other verbs

Callers import the verbs from :mod:`jianjian.parcels.services`, which only re-exports them.
"""
