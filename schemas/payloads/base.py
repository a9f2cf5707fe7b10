"""What every touchpoint payload shares."""

from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.personal import UNDECLARED_ARE_PERSONAL

SourceKind = Literal["website", "social", "sales", "service", "survey"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("website", "social", "sales", "service", "survey")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=256)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
Money = Annotated[float, Field(ge=0, le=1e12)]


class Extensible(BaseModel):
    """A model that keeps the extra (custom) properties it is sent, as personal data (``schemas.personal``)."""

    model_config = ConfigDict(frozen=True, extra="allow", allow_inf_nan=False, **UNDECLARED_ARE_PERSONAL)

    @model_validator(mode="after")
    def _no_reserved_name(self) -> "Extensible":
        if self.__pydantic_extra__ and "__all__" in self.__pydantic_extra__:  # pydantic's include/exclude, which sealing uses, reserve it
            raise ValueError("__all__: a reserved name, not accepted as a property name")
        return self


class Payload(Extensible):
    """The ``properties`` of one event type. Known fields are typed; extra custom properties are kept, as personal data."""

    event_type: ClassVar[str]
    source_kind: ClassVar[SourceKind]  # its home kind; the only one accepted unless ``source_kinds`` names more
    source_kinds: ClassVar[tuple[SourceKind, ...]] = ()

    @classmethod
    def accepted_source_kinds(cls) -> tuple[SourceKind, ...]:
        return cls.source_kinds or (cls.source_kind,)

    @classmethod
    def source_kind_from(cls, sender: SourceKind) -> SourceKind:
        """The kind an event of this type sent by a ``sender`` source is recorded as: the sender's,
        where this type accepts it, else the type's home kind (an NPS answer from a website widget
        is a survey touchpoint)."""
        return sender if sender in cls.accepted_source_kinds() else cls.source_kind
