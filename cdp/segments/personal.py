"""Which conditions of a segment definition test personal data: a trait (``profiles.traits`` is
personal data), and an event property that a caller without ``pii:read`` does not see whole
(``schemas.personal.shown_whole``). Counting the members of a definition made up of such
conditions reads the data behind the mask: a binary search on ``trait email < "m..."`` spells out
an email in about forty counts. So the segment service refuses such a definition to that caller,
unless it is a saved segment, whose conditions its writer chose.
"""

from cdp.segments.model import EventCondition, Segment, TraitCondition, conditions
from schemas.payloads import PAYLOAD_BY_EVENT_TYPE
from schemas.personal import shown_whole


def personal_conditions(segment: Segment) -> list[str]:
    """The paths of the conditions (``where.all[1].trait``) that test personal data, in order."""
    found = []
    for path, node in conditions(segment.where, "where"):
        if isinstance(node, TraitCondition):
            found.append(f"{path}.trait")
        elif isinstance(node, EventCondition):
            shown = shown_whole(PAYLOAD_BY_EVENT_TYPE[node.event])
            found += [f"{path}.properties.{key}" for key in node.properties if key not in shown]
    return found
