"""The command palette, built from the screens' own key bindings.

Every binding a screen class declares with a description becomes a palette command, so a
key and its command can never drift apart:

- title: the binding's ``title`` when it is a :class:`PaletteBinding` (for a footer label too
  short to stand alone: footer "Level", palette "Set level"), else its description;
- help: the binding's tooltip (also shown when the mouse is over the key in the footer), then
  the key, e.g. ``Set the level of a code on this passage (l)``;
- callback: the screen's ``action_...`` method, called directly (``app.run_action`` for an
  action with a namespace).

A binding with parameters (``toggle(3)``, ``take(1)``) is one of a family whose members only
the screen can name (the third code, the second coder): the screen lists that family itself
in ``palette_items()``; :func:`code_commands` makes the usual one, a command per dictionary
code. A screen may also define ``palette_offers(action_name) -> bool`` to leave out a
command it refuses at the moment (the consensus screen while coding blind).

Textual's ``SystemCommandsProvider`` shows these through ``BeicoderApp.get_system_commands``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from textual.actions import parse
from textual.app import SystemCommand
from textual.binding import Binding
from textual.screen import Screen


@dataclass(frozen=True)
class PaletteBinding(Binding):
    """A :class:`~textual.binding.Binding` whose palette command has a longer ``title`` than
    its footer label (``description``); put the command's help in ``tooltip``."""

    title: str = ""


def declared_bindings(screen: Screen) -> Iterator[Binding]:
    """The bindings ``screen``'s own classes declare (not Textual's), subclasses first, as
    written in ``BINDINGS`` (a :class:`PaletteBinding` keeps its title)."""
    for cls in type(screen).__mro__:
        if cls.__module__.startswith("textual."):
            continue
        for binding in cls.__dict__.get("BINDINGS", []):
            yield binding if isinstance(binding, Binding) else Binding(*binding)


def _caller(screen: Screen, action: str) -> Callable:
    namespace, name, params = parse(action)
    method = getattr(screen, f"action_{name}", None)
    if not namespace and method is not None:
        return lambda: method(*params)
    return lambda: screen.app.run_action(action, screen)


def binding_commands(screen: Screen) -> Iterator[SystemCommand]:
    """One palette command per action of ``screen``'s bindings that have a description,
    in the order declared (an action bound to two keys counts once); parameterised bindings
    are left to the screen's ``palette_items()``, see the module's docstring."""
    offers = getattr(screen, "palette_offers", None)
    seen: set[str] = set()
    for binding in declared_bindings(screen):
        _, name, params = parse(binding.action)
        if not binding.description or params or binding.action in seen:
            continue
        seen.add(binding.action)
        if offers is not None and not offers(name):
            continue
        title = getattr(binding, "title", "") or binding.description
        first_key = next(iter(Binding.make_bindings([binding])))
        help_text = f"{binding.tooltip or title} ({screen.app.get_key_display(first_key)})"
        yield SystemCommand(title, help_text, _caller(screen, binding.action))


def code_commands(code_order: list[str], competencies: dict, toggle: Callable[[int], object],
                  suffix: str = "", for_whom: str = "") -> Iterator[SystemCommand]:
    """One command per dictionary code: ``Toggle ACH 成就导向{suffix}``, calling ``toggle(n)``
    with the code's place (1 = first; its number key up to 9). ``for_whom`` ends the help
    line (`` for the consensus``)."""
    for n, code in enumerate(code_order, start=1):
        comp = competencies[code]
        key = f" ({n})" if n <= 9 else ""
        yield SystemCommand(f"Toggle {code} {comp.name_zh or comp.name_en}{suffix}",
                            f"Add or remove {comp.name_en or comp.name_zh}{for_whom}{key}",
                            lambda n=n: toggle(n))


def screen_commands(screen: Screen) -> Iterable[SystemCommand]:
    """Every palette command of ``screen``: its bindings', then its ``palette_items()``."""
    yield from binding_commands(screen)
    items = getattr(screen, "palette_items", None)
    if items is not None:
        yield from items()
