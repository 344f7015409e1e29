"""The analysis engine: pure Python + NumPy, no Django. Landmarks in, events out."""


def open_session(params, reference_signature: dict | None = None):
    """The engine session for a request: a reference movement's tracker, or the exercise session.

    Both have `feed(pose) -> list[dict]` and `finish() -> list[dict]`.
    """
    if params.reference is not None:
        from tracking.engine.reference import ReferenceTracker

        if reference_signature is None:
            raise ValueError("a reference session needs the reference's signature")
        return ReferenceTracker(params, reference_signature)
    from tracking.engine.session import TrackingSession

    return TrackingSession(params)
