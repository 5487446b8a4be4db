"""The CTI feature as the composition root sees it: subscriptions, routes, OpenAPI, metrics, lifecycle."""

from __future__ import annotations

import json

import pytest

from cti import feature as shipped_feature
from cti.events import SUBSCRIBED
from cti.websocket import WsSettings
from cti.wiring import CtiFeature
from hotline.config import Config
from hotline.feature import Feature, Services
from hotline.metrics import Registry
from hotline.tokens import EXTRAS_KEY, TokenSigner
from hotline.web import create_app

from .conftest import FakeEvents, Harness, NoAgi


def test_the_shipped_object_is_a_feature() -> None:
    assert isinstance(shipped_feature, CtiFeature)
    checked: Feature = shipped_feature
    assert checked.name == "cti"


async def test_every_route_is_documented_with_the_cti_fragment(cti: Harness) -> None:
    response = await cti.client.get("/openapi.json")
    document = json.loads(await response.text())
    app = cti.client.app
    assert app is not None
    served = {(r.method.lower(), r.resource.canonical) for r in app.router.routes() if r.resource is not None}
    documented = {(m, p) for p, item in document["paths"].items() for m in item}
    assert served == documented
    assert "4401" in document["paths"]["/cti/ws"]["get"]["description"]
    assert "CtiCallRinging" in document["components"]["schemas"]


async def test_subscriptions_and_metrics(cti: Harness) -> None:
    assert set(cti.events.subscribers) == set(SUBSCRIBED)
    assert all(name.startswith("cti.") for name in cti.events.names)
    text = cti.metrics.render()
    for metric in (
        "hotline_cti_connections 0",
        "hotline_cti_messages_total 0",
        "hotline_cti_events_dropped_total 0",
    ):
        assert f"\n{metric}\n" in text


async def test_a_shared_signer_in_extras_is_used() -> None:
    shared = TokenSigner(b"per-process key the demo printed tokens with")
    app = create_app(config=Config(), health_checks={}, metrics=Registry(), openapi_fragments=[])
    feature = CtiFeature(WsSettings())
    from hotline.callcontext import CallContext

    services = Services(
        config=Config(),
        events=FakeEvents(),
        ami={},
        agi=NoAgi(),
        web=app,
        call_context=CallContext(),
        extras={EXTRAS_KEY: shared},
    )
    feature.setup(services)
    assert feature.signer is shared
    token = feature.issue_token("1001", "PJSIP/1001", pbx="jakarta")
    assert shared.verify(token).extra == {"pbx": "jakarta"}


async def test_start_before_setup_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="before setup"):
        await CtiFeature().start()
    with pytest.raises(RuntimeError, match="before setup"):
        CtiFeature().issue_token("1001", "PJSIP/1001")


async def test_event_queue_overflow_drops_with_a_count(cti: Harness) -> None:
    events = cti.feature._events
    assert events is not None
    await events.stop()  # nobody drains the queue now
    tiny = type(events)(cti.feature.hub, cti.context, max_queue=2)
    from .conftest import FakePbxEvent, fixture_events

    called = next(e for e in fixture_events("answered-hold") if e.name == "AgentCalled")
    for _ in range(5):
        tiny.accept(FakePbxEvent("jakarta", called))
    assert tiny.dropped == 3
