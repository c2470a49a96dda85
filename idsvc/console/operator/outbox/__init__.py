"""The development outbox page (``idsvc dev``)."""
