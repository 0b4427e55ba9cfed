"""The core both backends share: private, imported by the package's face and its edges, never the
other way round.

- ``backends``: the two backends and which one is active; ``pure`` (on msgpack-python, with the code
  ``record_code`` generates per layout) and ``compiled`` (Cython: ``compiled.pyx``);
- ``framing``: what a socket hands over, to one frame, JSON or MessagePack, its version checked;
- ``extensions``: the MessagePack extensions' payloads (datetimes, big ints, arrays, pickles, exception
  classes); ``out_of_band``: buffers that travel in frames of their own; ``allowlist``: the exception
  classes found by name with pickle off;
- ``shapes``, ``scalars``, ``epochs``, ``meta_events``: a generation's values by their layout, to the wire
  and back; ``validation``: control messages validated by their classes, after their declared shape;
- ``legacy_json``: the reference's JSON, written and read;
- ``screens`` (cheap checks over a frame), ``diagnosis`` (where a frame or a message goes wrong),
  ``pickled_strs`` (strs that a reader would take for pickles).
"""
