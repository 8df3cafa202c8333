"""What the footer shows first on a narrow terminal, where it cannot show every key."""

from __future__ import annotations

NARROW_BELOW = 110  # columns: below this the footer lists first the keys one cannot guess


def bindings_in_order(bindings: dict, first: list[str]) -> dict:
    """The active bindings (key -> ActiveBinding) with the actions named in ``first`` ahead,
    in that order, the others after them as they were."""

    def rank(item) -> int:
        action = item[1].binding.action
        return first.index(action) if action in first else len(first)

    return dict(sorted(bindings.items(), key=rank))


class NarrowFooter:
    """Screen mixin: below ``NARROW_BELOW`` columns the footer lists the actions named in
    ``NARROW_FOOTER_FIRST`` first. Put it before ``Screen`` among the bases."""

    NARROW_FOOTER_FIRST: list[str] = []

    @property
    def active_bindings(self):
        bindings = super().active_bindings
        if self.size.width >= NARROW_BELOW:
            return bindings
        return bindings_in_order(bindings, self.NARROW_FOOTER_FIRST)
