"""Segments made of saved segments: ``{segment: vip}`` holds the customers of the saved segment
``vip`` as it is saved now. A segment is evaluated with each reference replaced by the referred
segment's conditions (themselves expanded), so a change to ``vip`` reaches every segment built on
it, and the whole stays within the limits of one definition (``model.within_limits``).

A name that is not saved, and a segment that refers back to itself (directly or through others),
are refused naming the reference's path; the store refuses to delete a segment others refer to.
The conditions are counted before anything is expanded: segments saved one by one within the
limits can still multiply (each referring to the last a hundred times), and expanding those first
would take time and memory without end.
"""

from collections.abc import Callable
from typing import Any

from cdp.segments.model import MAX_CONDITIONS, AllOf, AnyOf, NotOf, Segment, SegmentReference, conditions, refuse_whole, within_limits
from cdp.segments.problems import Refusal

Saved = Callable[[str], Segment | None]  # a saved segment's newest version as written, None when none is saved


def expanded(segment: Segment, saved: Saved) -> Segment:
    """``segment`` with every reference replaced by what it refers to. ``segment`` itself may be a
    new version not saved yet: a saved segment referring to its name refers to this one."""
    if not refers(segment):
        return segment
    references = _References(saved)
    count = references.count(segment.where, "where", (segment.name,))
    if count > MAX_CONDITIONS:
        refuse_whole("where", Refusal("too_many_conditions", given=count, most=MAX_CONDITIONS))
    return within_limits(segment.model_copy(update={"where": references.expand(segment.where)}))


def refers(segment: Segment) -> list[str]:
    """The names ``segment`` refers to directly, in order."""
    return [node.segment for _, node in conditions(segment.where, "where") if isinstance(node, SegmentReference)]


class _References:
    """One expansion: each saved segment read once, and its conditions counted once."""

    def __init__(self, saved: Saved):
        self._saved = saved
        self._read: dict[str, Segment | None] = {}
        self._counted: dict[str, int] = {}

    def count(self, where: Any, path: str, chain: tuple[str, ...]) -> int:
        """How many conditions ``where`` has with its references expanded; refuses a reference to a
        segment not saved, or to one in ``chain`` (being expanded, outermost first). ``path`` names
        the outermost segment's reference: where its writer can change it."""
        total = 0
        for at, node in conditions(where, path):
            if not isinstance(node, SegmentReference):
                total += 1
                continue
            where_named = at + ".segment" if len(chain) == 1 else path
            if node.segment in chain:
                refuse_whole(where_named, Refusal("refers_to_itself", chain=" → ".join((*chain[chain.index(node.segment) :], node.segment))))
            if node.segment not in self._counted:
                referred = self._segment(node.segment)
                if referred is None:
                    refuse_whole(where_named, Refusal("no_saved_segment", given=node.segment))
                self._counted[node.segment] = self.count(referred.where, where_named, (*chain, node.segment))
            total += self._counted[node.segment]
        return total

    def expand(self, node: Any) -> Any:
        """``node`` with its references replaced (``count`` has checked them). The parts are valid
        already: they are put together unchecked."""
        if isinstance(node, AllOf):
            return AllOf.model_construct(all=[self.expand(c) for c in node.all])
        if isinstance(node, AnyOf):
            return AnyOf.model_construct(any=[self.expand(c) for c in node.any])
        if isinstance(node, NotOf):
            return NotOf.model_construct(not_=self.expand(node.not_))
        if isinstance(node, SegmentReference):
            return self.expand(self._segment(node.segment).where)
        return node

    def _segment(self, name: str) -> Segment | None:
        if name not in self._read:
            self._read[name] = self._saved(name)
        return self._read[name]
