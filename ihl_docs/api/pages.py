"""One page of a list, with the total and the link to the next page; where a job is followed."""

from urllib.parse import urlencode

from flask import after_this_request, request, url_for

from ihl_docs.api.schemas import ListQuery


def page(items: list, total: int, params: ListQuery) -> dict:
    """The list answer: {"items": [...], "total": N, "next": URL or null}."""
    following = params.offset + len(items)
    next_url = None
    if items and following < total:
        args = request.args.to_dict(flat=False)
        args["offset"] = [str(following)]
        next_url = f"{request.base_url}?{urlencode(args, doseq=True)}"
    return {"items": items, "total": total, "next": next_url}


def located_at(endpoint: str, **values) -> None:
    """Send a Location header naming where the accepted job can be followed."""
    location = url_for(endpoint, **values)

    @after_this_request
    def locate(response):
        response.headers["Location"] = location
        return response
