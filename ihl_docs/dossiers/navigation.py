"""Finding one's way in the dossier: where each section starts, the contents entries, the bookmarks."""

from ihl_docs.dossiers.assemble import OutlineEntry
from ihl_docs.dossiers.sections import INCIDENTS, Section


def starts(counts: list[int], first_page: int) -> list[int]:
    """The 0-based start page of each section, given their page counts."""
    result, page = [], first_page
    for count in counts:
        result.append(page)
        page += count
    return result


def contents(sections: list[Section], starts: list[int]) -> list[dict]:
    """The contents entries — a group once, incidents one by one — with 0-based start pages."""
    entries, groups = [], set()
    for section, start in zip(sections, starts):
        if section.group and section.group not in groups:
            groups.add(section.group)
            entries.append({"title": section.group, "page": start, "level": 1})
        if section.group == INCIDENTS:
            entries.append({"title": section.title, "page": start, "level": 2})
        elif not section.group:
            entries.append({"title": section.title, "page": start, "level": 1})
    return entries


def make_outline(toc: list[dict]) -> list[OutlineEntry]:
    """The bookmarks: cover, contents, then the contents entries, incidents under their group."""
    top = [OutlineEntry("Cover", 0), OutlineEntry("Contents", 1)]
    children: dict[int, list[OutlineEntry]] = {}
    for entry in toc:
        if entry["level"] == 1:
            top.append(OutlineEntry(entry["title"], entry["page"]))
        else:
            children.setdefault(len(top) - 1, []).append(OutlineEntry(entry["title"], entry["page"]))
    return [OutlineEntry(e.title, e.page, tuple(children.get(n, ()))) for n, e in enumerate(top)]
