"""Prometheus metrics (web.metrics, services.telemetry): what is counted, labels bounded."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY

from services.telemetry import record_rate_limited, record_test_email
from tests.conftest import CREATE_FIRM, FIRMS, ROMASHKA, GraphQLClient

# 1. GraphQL limits -------------------------------------------------------------------------


# 6. Metrics --------------------------------------------------------------------------------


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_metrics_count_requests_latency_letters_and_refusals(
    gql: GraphQLClient, viewer_gql: GraphQLClient, anonymous: httpx.AsyncClient
) -> None:
    before = {
        "ok": sample("mailtab_graphql_requests_total", operation="firms", outcome="ok"),
        "forbidden": sample(
            "mailtab_graphql_requests_total", operation="createFirm", outcome="forbidden"
        ),
        "anonymous": sample(
            "mailtab_graphql_requests_total", operation="-", outcome="unauthenticated"
        ),
        "latency": sample("mailtab_graphql_request_duration_seconds_count", operation="firms"),
        "delivered": sample("mailtab_test_emails_total", outcome="DELIVERED"),
        "odd": sample("mailtab_test_emails_total", outcome="OTHER"),
        "limited": sample("mailtab_rate_limited_total", operation="sendTestEmail"),
    }
    await gql(FIRMS)
    await viewer_gql.post(CREATE_FIRM, {"input": ROMASHKA})
    await anonymous.post("/graphql", json={"query": FIRMS})
    record_test_email("DELIVERED")
    record_test_email("not a code\n")
    record_rate_limited("sendTestEmail")

    assert (
        sample("mailtab_graphql_requests_total", operation="firms", outcome="ok")
        == before["ok"] + 1
    )
    assert (
        sample("mailtab_graphql_requests_total", operation="createFirm", outcome="forbidden")
        == before["forbidden"] + 1
    )
    assert (
        sample("mailtab_graphql_requests_total", operation="-", outcome="unauthenticated")
        == before["anonymous"] + 1
    )
    assert (
        sample("mailtab_graphql_request_duration_seconds_count", operation="firms")
        == before["latency"] + 1
    )
    assert sample("mailtab_test_emails_total", outcome="DELIVERED") == before["delivered"] + 1
    assert sample("mailtab_test_emails_total", outcome="OTHER") == before["odd"] + 1
    assert sample("mailtab_rate_limited_total", operation="sendTestEmail") == before["limited"] + 1

    scrape = await anonymous.get("/metrics")  # no token: counts only
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    for name in [
        "mailtab_graphql_requests_total",
        "mailtab_graphql_request_duration_seconds_bucket",
        "mailtab_test_emails_total",
        "mailtab_rate_limited_total",
        "mailtab_graphql_requests_in_progress",
    ]:
        assert name in scrape.text
    assert gql.token is not None and gql.token not in scrape.text


async def test_metric_labels_are_not_client_chosen(gql: GraphQLClient) -> None:
    await gql.post("{ madeUpField }")
    await gql.post("query SomeName { firms { id } outlets { id } }")
    labels = {
        sample.labels.get("operation")
        for metric in REGISTRY.collect()
        if metric.name == "mailtab_graphql_requests"
        for sample in metric.samples
    }
    assert "madeUpField" not in labels and "SomeName" not in labels
    assert "multiple" in labels
