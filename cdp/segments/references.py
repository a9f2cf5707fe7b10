"""Segments built on saved segments: ``{segment: vip}`` holds the customers of the saved segment
``vip`` as it is saved now. A segment is evaluated with each reference replaced by the referred
segment's conditions, so a change to ``vip`` reaches every segment built on it.

One level only: a saved segment may be built on saved segments that are not built on others. So
a saved reference never leads to another (no chain to follow, no cycle to find), and the store, in
the transaction that saves a segment (``saving_problems``), keeps it so: what a segment refers to
is saved and not built on others, a segment is not built on itself, one that others are built on
is not built on others, and it and every segment built on it keep to one definition's limits once
expanded. A definition not saved (a count, the console's filters) may refer to any saved segment:
two levels at most. A saved segment that no longer expands (a store edited by hand) is refused
where it is evaluated, and only there.
"""

from collections.abc import Callable, Iterator
from typing import Any

from cdp.errors import SegmentInvalid
from cdp.segments.model import MAX_CONDITIONS, AllOf, AnyOf, NotOf, Segment, SegmentReference, conditions, refuse_whole, within_limits
from cdp.segments.problems import Refusal

Saved = Callable[[str], Segment | None]  # a saved segment's newest version as written, None when none is saved


def expanded(segment: Segment, saved: Saved, levels: int = 2, check: Callable[[Segment], object] = lambda _: None) -> Segment:
    """``segment`` with every reference replaced by the saved segment's conditions, themselves
    expanded, ``levels`` deep at most (a definition not saved may refer to a saved segment of its own
    name: it is that saved segment). Refuses, naming the reference's path, a segment not saved or
    deeper, and an expansion beyond the limits of one definition (counted before anything is put
    together); a saved segment that ``check`` refuses (``SegmentInvalid``: a value no longer known,
    say) or that no longer expands is refused at the reference to it, its own problem inside."""
    found: dict[str, Segment] = {}
    for path, name in references(segment):
        if name not in found:
            referred = saved(name)
            if referred is None:
                refuse_whole(path, Refusal("no_saved_segment", given=name))
            if refers(referred) and levels == 1:
                refuse_whole(path, Refusal("built_on_built", given=name))
            try:
                check(referred)
                if refers(referred):
                    referred = expanded(referred, saved, levels - 1, check)
            except SegmentInvalid as problem:  # every refusal of a check or an expansion carries its Problem
                refuse_whole(path, Refusal("referred_invalid", given=name, problem=problem.problems[0]))
            found[name] = referred
    if not found:
        return segment
    sizes = {name: len(list(conditions(referred.where, ""))) for name, referred in found.items()}
    count = sum(sizes[node.segment] if isinstance(node, SegmentReference) else 1 for _, node in conditions(segment.where, "where"))
    if count > MAX_CONDITIONS:
        refuse_whole("where", Refusal("too_many_conditions", given=count, most=MAX_CONDITIONS))
    return within_limits(segment.model_copy(update={"where": _replaced(segment.where, found)}))


def saving_problems(segment: Segment, saved: Saved, users: list[Segment]) -> None:
    """Refuses to save ``segment`` (a new segment or a new version) when it would break the one level
    of references: ``users``, the saved segments built on it now."""
    for path, name in references(segment):
        if name == segment.name:
            refuse_whole(path, Refusal("built_on_itself"))
    if users and refers(segment):
        refuse_whole(next(references(segment))[0], Refusal("built_on_by_others", users=", ".join(u.name for u in users)))
    expanded(segment, saved, levels=1)  # what it refers to is saved and built on no other
    for user in users:
        try:
            expanded(user, lambda name: segment if name == segment.name else saved(name))
        except SegmentInvalid as problem:
            # every refusal of an expansion carries its Problem (``refuse_whole``): a door words it (the console)
            refuse_whole("where", Refusal("breaks_user", user=user.name, problem=problem.problems[0]))


def refers(segment: Segment) -> list[str]:
    """The names ``segment`` refers to, in order."""
    return [name for _, name in references(segment)]


def references(segment: Segment) -> Iterator[tuple[str, str]]:
    """``(path, name)`` of each reference: ``("where.all[0].segment", "vip")``."""
    for path, node in conditions(segment.where, "where"):
        if isinstance(node, SegmentReference):
            yield f"{path}.segment", node.segment


def _replaced(node: Any, found: dict[str, Segment]) -> Any:
    """The parts are valid already: they are put together unchecked (the written tree is at most
    ``MAX_DEPTH`` deep, so this recursion is bounded)."""
    if isinstance(node, AllOf):
        return AllOf.model_construct(all=[_replaced(c, found) for c in node.all])
    if isinstance(node, AnyOf):
        return AnyOf.model_construct(any=[_replaced(c, found) for c in node.any])
    if isinstance(node, NotOf):
        return NotOf.model_construct(not_=_replaced(node.not_, found))
    return found[node.segment].where if isinstance(node, SegmentReference) else node
