"""`/store`: the caller's long-term memory (LangGraph's Store API), on Postgres with RLS.

Every request acts on the caller's own `UserStore`: the namespaces a client names are inside that user's
space, so another user's items cannot be read, listed, overwritten or deleted whatever is sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from api.auth import CurrentPrincipal
from api.deps import Runtime
from api.errors import ApiError
from api.responses import json_response
from api.store.schemas import StoreDelete, StoreNamespaces, StorePut, StoreSearch, check_namespace
from db.store import StoreFilterError, item_json

router = APIRouter(tags=["store"])


@router.put("/store/items", status_code=204, summary="Store or replace an item")
async def put_item(body: StorePut, principal: CurrentPrincipal, rt: Runtime) -> Response:
    index = False if body.index is False else body.index
    await rt.store_for(principal.user_id).aput(tuple(body.namespace), body.key, body.value, index=index,
                                                 ttl=body.ttl)
    return Response(status_code=204)


@router.get("/store/items", summary="Get an item (null when there is none)")
async def get_item(principal: CurrentPrincipal, rt: Runtime, key: Annotated[str, Query(min_length=1)],
                   namespace: Annotated[str, Query()] = "",
                   refresh_ttl: Annotated[bool | None, Query()] = None) -> Response:
    labels = namespace.split(".") if namespace else []
    try:
        check_namespace(labels)
    except ValueError as exc:
        raise ApiError(422, "invalid_request", f"namespace: {exc}", field="namespace") from None
    item = await rt.store_for(principal.user_id).aget(tuple(labels), key, refresh_ttl=refresh_ttl)
    return json_response(item_json(item) if item is not None else None)


@router.delete("/store/items", status_code=204, summary="Delete an item (nothing happens if there is none)")
async def delete_item(body: StoreDelete, principal: CurrentPrincipal, rt: Runtime) -> Response:
    await rt.store_for(principal.user_id).adelete(tuple(body.namespace), body.key)
    return Response(status_code=204)


@router.post("/store/items/search", summary="Search items under a namespace prefix")
async def search_items(principal: CurrentPrincipal, rt: Runtime,
                       body: Annotated[StoreSearch | None, Body()] = None) -> Response:
    body = body or StoreSearch()
    try:
        items = await rt.store_for(principal.user_id).asearch(
            tuple(body.namespace_prefix or ()), query=body.query, filter=body.filter, limit=body.limit,
            offset=body.offset, refresh_ttl=body.refresh_ttl)
    except StoreFilterError as exc:
        raise ApiError(422, "invalid_request", str(exc), field="filter") from None
    return json_response({"items": [item_json(i) for i in items]})


@router.post("/store/namespaces", summary="List the namespaces that hold items")
async def list_namespaces(principal: CurrentPrincipal, rt: Runtime,
                          body: Annotated[StoreNamespaces | None, Body()] = None) -> Response:
    body = body or StoreNamespaces()
    found = await rt.store_for(principal.user_id).alist_namespaces(
        prefix=tuple(body.prefix) if body.prefix else None, suffix=tuple(body.suffix) if body.suffix else None,
        max_depth=body.max_depth, limit=body.limit, offset=body.offset)
    return json_response({"namespaces": [list(n) for n in found]})
