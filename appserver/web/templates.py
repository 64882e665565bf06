"""
An app's templates: twisted.web.template XML files looked up by file name.

L{TemplateElement} renders a template with plain data and no Python
renderer code: scalar values fill the C{<t:slot name="..."/>} slots
anywhere in the template, and a tag with C{t:render="key"} is rendered from
C{data[key]}: once per item for a list of dicts (each item fills that copy's
slots), once with the slots of a dict, left out for a false value, or given
the value as its content otherwise.

For full control write a L{twisted.web.template.Element} subclass with
C{loader = templates.loader("page.xml")} and return an instance.
"""

from typing import Any

from twisted.python.filepath import FilePath, InsecurePath
from twisted.web.template import Element, Tag, XMLFile, tags

__all__ = ["TemplateLoader", "TemplateElement"]

_SCALARS = (str, int, float, bytes, type(None))


class TemplateLoader:
    """
    Templates of one directory, parsed once and cached by name.

    @ivar path: the directory, a L{FilePath}.
    """

    def __init__(self, path: str | FilePath[str]) -> None:
        self.path = FilePath(path) if not isinstance(path, FilePath) else path
        self._loaders: dict[str, XMLFile] = {}

    def loader(self, name: str) -> XMLFile:
        """
        The L{XMLFile} loader of the template file C{name}.

        @raise LookupError: if there is no such template.
        """
        found = self._loaders.get(name)
        if found is None:
            try:
                path = self.path.preauthChild(name)
            except InsecurePath:
                raise LookupError(f"Template name {name!r} leaves {self.path.path}.") from None
            if not path.isfile():
                raise LookupError(f"No template {name!r} in {self.path.path}.")
            found = self._loaders[name] = XMLFile(path)
        return found

    def element(self, name: str, **data: Any) -> "TemplateElement":
        """
        A L{TemplateElement} rendering template C{name} with C{data}.
        """
        return TemplateElement(self.loader(name), data)


class TemplateElement(Element):
    """
    A template rendered from a dict of data; see the module docstring.
    """

    def __init__(self, loader: XMLFile, data: dict[str, Any]) -> None:
        # XMLFile provides ITemplateLoader, a zope declaration mypy does not read.
        Element.__init__(self, loader)  # type: ignore[arg-type]
        self.data = data

    def render(self, request):
        """
        The template, with every scalar value of the data as a slot.
        """
        slots = {k: _slot(v) for k, v in self.data.items() if isinstance(v, _SCALARS)}
        return tags.transparent(Element.render(self, request)).fillSlots(**slots)

    def lookupRenderMethod(self, name):
        """
        Render a C{t:render="name"} tag from C{self.data[name]}.
        """
        if name not in self.data:
            return Element.lookupRenderMethod(self, name)
        value = self.data[name]
        return lambda request, tag: _renderValue(tag, value)


def _slot(value):
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    return value


def _renderValue(tag, value):
    if isinstance(value, dict):
        return tag.fillSlots(**{k: _slot(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return [_renderValue(tag.clone(), item) for item in value]
    if not value and not isinstance(value, (int, float)):
        return ""
    if isinstance(value, Tag):
        return tag(value)
    return tag(str(value) if not isinstance(value, (str, bytes)) else value)
