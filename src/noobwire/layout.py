"""A generation of noob's message schema, as data: what both backends read to write and read its frames.

A :class:`Generation` says which wire-format version its frames carry, which message types there are
(a type's code is its place in the list), how each message's ``value`` is laid out, and where the
classes to build come from. The pure backend reads it at run time; the compiled backend compiles its
hot records into tables once per generation. A new generation of noob's schema is a new description
(see :mod:`noobwire.generations`), not new encoder or decoder code.

Values are described by *shapes*: a :class:`Kind` (one field's type, written one way), a
:class:`Record` (a dict of fixed keys, written as an array of its values in order), a :class:`ListOf`,
a :class:`MapOf` (str keys), a :class:`Nullable` or a :class:`OneOf` (a str that names a member of
an enum).
"""

from __future__ import annotations

import importlib
import threading
from dataclasses import dataclass, field, replace
from enum import IntEnum
from functools import cached_property
from types import ModuleType
from typing import Any

__all__ = [
    "FLAT_KINDS",
    "Epochs",
    "Field",
    "Generation",
    "Kind",
    "ListOf",
    "MapOf",
    "MessageLayout",
    "MetaEvents",
    "Nullable",
    "OneOf",
    "Record",
    "Shape",
    "resolve",
    "resolve_module",
]


class Kind(IntEnum):
    """What one field holds, and so how it is written and checked. The numbers are the compiled
    backend's table entries, not part of the wire format."""

    INT = 1
    """An int (a subclass such as ``bool`` or an ``IntEnum`` member is written as an int)."""
    STR = 2
    """A str (a subclass such as a ``StrEnum`` member is written as a str)."""
    DATETIME = 3
    """A datetime, naive or aware."""
    ANY = 4
    """A free value: anything the format writes (``docs/wire-format.md``, section 4)."""
    OPTIONAL_DICT = 5
    """A dict of free values, or None."""
    EPOCH = 6
    """The generation's epoch: an int for a root epoch, an array for a path of sub-epochs."""
    OPTIONAL_EPOCH = 7
    """An epoch, or None."""
    NONE = 8
    """Always None."""
    EXCEPTION_CLASS = 9
    """An exception class (written by name)."""
    ARGS = 10
    """A tuple of free values, written as an array."""
    MODEL_JSON = 11
    """A pydantic model, carried as the JSON text its own class writes and validated by it."""


FLAT_KINDS = frozenset(
    (Kind.INT, Kind.STR, Kind.DATETIME, Kind.ANY, Kind.OPTIONAL_DICT, Kind.EPOCH, Kind.OPTIONAL_EPOCH)
)
"""The kinds a constructed record may hold: the ones both backends check field by field."""

FREE_KINDS = frozenset((Kind.ANY, Kind.OPTIONAL_DICT, Kind.ARGS))
"""The kinds whose contents are free values (where large buffers may go out of band)."""


@dataclass(frozen=True)
class Field:
    """One key of a record and what its value holds."""

    name: str
    shape: Shape


@dataclass(frozen=True)
class MetaEvents:
    """How a generation tells meta events from node events inside an event record (noob 1000 and on).

    An event whose :attr:`node_field` is :attr:`node_id` is a meta event: its :attr:`signal_field` must
    be a value of the enum named :attr:`signals`. In any other event, a str in :attr:`value_field` that
    is :attr:`prefix` followed by the name of a member of the meta-signal enum is that member (as noob's
    own validation makes it).
    """

    node_id: str
    signals: str
    prefix: str
    node_field: str = "node_id"
    signal_field: str = "signal"
    value_field: str = "value"


@dataclass(frozen=True)
class Record:
    """A dict with fixed keys, written as a MessagePack array of its values in the order of ``fields``,
    and read back as a dict with its keys in that order."""

    name: str
    """What one of these is called in errors: ``"event"``, ``"process value"``."""
    fields: tuple[Field, ...]
    meta: MetaEvents | None = None

    @property
    def what(self) -> str:
        """The name with its article: ``"an event"``."""
        return f"{'an' if self.name[0] in 'aeiou' else 'a'} {self.name}"

    @property
    def keys(self) -> tuple[str, ...]:
        """The field names, in order."""
        return tuple(item.name for item in self.fields)

    def index(self, name: str) -> int:
        """The position of the field called ``name``."""
        return self.keys.index(name)


@dataclass(frozen=True)
class ListOf:
    """A list, written as an array, of items of one shape."""

    item: Shape


@dataclass(frozen=True)
class MapOf:
    """A dict with str keys, written as a map, of values of one shape."""

    value: Shape


@dataclass(frozen=True)
class Nullable:
    """None, or a value of the shape."""

    shape: Shape


@dataclass(frozen=True)
class OneOf:
    """A str that is the value of a member of an enum (``enum``, looked up on the bound module as
    :func:`resolve` does), written as that str: a node's status."""

    enum: str


Shape = Kind | Record | ListOf | MapOf | Nullable | OneOf


@dataclass(frozen=True)
class MessageLayout:
    """One message type: its name, the name of its class, and the shape of its ``value``.

    ``constructed``: the decoders check the value field by field and build the class without running
    its validation (the hot messages; the value must be a :class:`Record` of flat kinds, or a
    :class:`ListOf` one); otherwise the class's own validation reads the value (the control messages).
    """

    type: str
    cls: str
    value: Shape
    constructed: bool = False

    @property
    def listed(self) -> bool:
        """Whether the value is a list of records (an event message's), rather than one record."""
        return isinstance(self.value, ListOf)

    @property
    def record(self) -> Record:
        """The record of a constructed message's value (of each of its items, for a list)."""
        shape = self.value.item if isinstance(self.value, ListOf) else self.value
        if not isinstance(shape, Record):
            raise TypeError(f"the value of the {self.type} message is not laid out as records")
        return shape


@dataclass(frozen=True)
class Epochs:
    """Where a generation's epoch class is, and what its root epochs are called.

    ``cls`` is looked up on the message module. ``segment`` is None for a class built as
    ``cls(root, [(node_id, n), ...])`` (noob_core's), or the name of the class of one segment for a tuple
    of segments whose first is ``(root_name, root)`` (noob 1000 to 1001). ``min`` and ``max`` bound a
    root's and a segment's number.
    """

    cls: str = "Epoch"
    segment: str | None = None
    root_name: str = "tube"
    min: int = 0
    max: int = 2**32 - 1
    max_levels: int = 64
    """An epoch has at most this many levels (its root and its sub-epochs); a deeper one is refused.
    noob's runner makes every parent of an epoch it stores (``Epoch.parents``), at a cost that grows with
    the square of its levels: a 97 KiB frame of one deep epoch would cost a node 76 MiB."""


def resolve(module: ModuleType, name: str) -> Any:
    """The object ``name`` names for a generation bound to ``module``: an attribute of ``module``, or
    ``"sub:attr"``: an attribute of the module ``sub`` of the same top-level package (``attr`` may be
    dotted: ``"node.spec:NodeSpecification"``)."""
    sub, _, attr = name.rpartition(":")
    if sub:
        module = resolve_module(module, sub)
    found: Any = module
    for part in attr.split("."):
        found = getattr(found, part)
    return found


def resolve_module(module: ModuleType, sub: str) -> ModuleType:
    """The module ``sub`` of the top-level package of ``module`` (imported if it is not yet)."""
    top = module.__name__.partition(".")[0]
    return importlib.import_module(f"{top}.{sub}")


_bind_lock = threading.Lock()


@dataclass(frozen=True, eq=False)
class Generation:
    """One generation of the message schema and its wire-format version.

    ``module`` names the module whose classes a decoder builds (the mirror's for the reference,
    ``noob.network.message`` for a noob generation); :meth:`bind` gives the same description bound to
    another module (a stand-in, or noob's module as it is imported), and :meth:`with_classes` one bound
    to a table of classes of the caller's own. Generations compare by identity.
    """

    name: str
    """What people call it: ``"reference"``, ``"noob 1003"``."""
    version: int
    """The wire-format version its frames carry."""
    messages: tuple[MessageLayout, ...]
    """The message types, by type code."""
    module: str
    """The module whose classes the decoders build, by default."""
    meta_signal: str | None = "MetaSignal"
    """The enum of meta signals (``NoEvent``, ...), whose members are values written as themselves;
    None for a schema that has none."""
    epochs: Epochs | None = None
    """The generation's epochs, if its records hold any."""
    summary: str = ""
    """Which noob releases have this schema, for errors and the documentation."""
    snapshot: str | None = None
    """The file under ``noobwire/noob/snapshots`` holding the schema facts of the published package this
    generation describes (see :mod:`noobwire.noob.compat`); None for the reference, whose facts are the
    mirror's."""
    json_mirror: bool = False
    """Whether noobwire's own mirror reads this generation's legacy JSON (the reference); otherwise
    the bound module's ``MessageAdapter`` does."""
    pickle_module: str | None = None
    """The module of the bound package through whose ``pickle`` its classes unpickle those strs
    (``"types"``, noob's ``Picklable``): while noobwire is installed with pickle off, it refuses to."""
    importing_fields: tuple[str, ...] = ()
    """Computed fields of the bound package that import what a value names, as ``"sub:Class.field"``
    (noob 1003's ``"node.spec:NodeSpecification.nodeinfo"``, which imports a node's ``type``): while
    noobwire is installed with pickle off, they are left out of ``repr()``."""
    pickle_prefix: str | None = None
    """The bound classes unpickle a str that begins with this wherever they validate a value declared
    picklable (noob's ``Picklable``: ``"pck__"``), also when noob builds a new message from values it
    received. With pickle off, a message holding such a str anywhere is refused, decoded or encoded
    (:mod:`noobwire._core.pickled_strs`). None: the classes unpickle nothing of the sort (the mirror)."""
    classes_given: dict[str, type] | None = field(default=None, repr=False)
    module_given: ModuleType | None = field(default=None, repr=False)

    # --- the description ---------------------------------------------------------------------------

    @cached_property
    def type_codes(self) -> dict[str, int]:
        """The type code of each message type."""
        return {layout.type: code for code, layout in enumerate(self.messages)}

    @cached_property
    def type_names(self) -> tuple[str, ...]:
        """The message types, by type code."""
        return tuple(layout.type for layout in self.messages)

    def layout(self, type_name: str) -> MessageLayout | None:
        """The layout of the message type ``type_name``, or None if the generation has no such type."""
        code = self.type_codes.get(type_name)
        return None if code is None else self.messages[code]

    # --- what it is bound to -----------------------------------------------------------------------

    @cached_property
    def bound_module(self) -> ModuleType:
        """The module the classes come from (imported on first use)."""
        return self.module_given or importlib.import_module(self.module)

    @cached_property
    def classes(self) -> dict[str, type]:
        """The class a decoder builds for each message type."""
        if self.classes_given is not None:
            return self.classes_given
        module = self.bound_module
        return {layout.type: getattr(module, layout.cls) for layout in self.messages}

    @cached_property
    def meta_signal_enum(self) -> Any:
        """The meta-signal enum of the bound module (its members are written as themselves), or None."""
        return None if self.meta_signal is None else resolve(self.bound_module, self.meta_signal)

    @cached_property
    def epoch_class(self) -> Any:
        """The bound module's epoch class (None if the generation has no epochs)."""
        return None if self.epochs is None else resolve(self.bound_module, self.epochs.cls)

    @cached_property
    def segment_class(self) -> Any:
        """The class of one segment of a tuple epoch (None for other epochs)."""
        if self.epochs is None or self.epochs.segment is None:
            return None
        return resolve(self.bound_module, self.epochs.segment)

    def unresolved(self) -> list[str]:
        """The names this description gives that its bound module does not have (its message classes,
        its epoch and segment classes, its meta-signal enum): empty when the module is of this
        generation. A generation of one noob bound to another noob's module lists what differs."""
        module = self.bound_module
        names = [layout.cls for layout in self.messages if self.classes_given is None]
        if self.epochs is not None:
            names += [self.epochs.cls, *([self.epochs.segment] if self.epochs.segment else [])]
        if self.meta_signal is not None:
            names.append(self.meta_signal)
        missing = []
        for name in names:
            try:
                resolve(module, name)
            except (AttributeError, ImportError):
                missing.append(name)
        return missing

    def bind(self, module: ModuleType) -> Generation:
        """This description, with its classes and enums taken from ``module``."""
        return _bound(self, module)

    def with_classes(self, classes: dict[str, type]) -> Generation:
        """This description, building the classes of ``classes`` (message type to class)."""
        return replace(self, classes_given=classes)

    def __repr__(self) -> str:
        return f"<noobwire generation {self.name!r}, wire format version {self.version}>"


_bindings: dict[tuple[int, int], tuple[Generation, ModuleType, Generation]] = {}


def _bound(generation: Generation, module: ModuleType) -> Generation:
    # One bound generation per (description, module), so that its compiled tables are made once; the
    # entry holds both, so neither id is reused while it stands.
    key = (id(generation), id(module))
    with _bind_lock:
        known = _bindings.get(key)
        if known is not None and known[0] is generation and known[1] is module:
            return known[2]
        bound = replace(generation, module=module.__name__, module_given=module, classes_given=None)
        _bindings[key] = (generation, module, bound)
        return bound
