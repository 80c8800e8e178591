"""API throughput and latency on loopback: ``ledgerlens serve`` (1 uvicorn worker, SQLite)
against a hello-world FastAPI app measured in the same run.

A real load generator drives real servers over 127.0.0.1: ``wrk`` when it is installed
(``apt-get install wrk``), else a bounded asyncio+httpx generator in a separate process.
Measured: GET a page of 100 transactions (of 5,000 stored), GET the insights feed (20 stored;
issue 9's target: ≥ 40 % of hello-world's requests/s, p99 ≤ 20 ms) and POST one transaction (a new
Idempotency-Key and transaction id per request: reserve, validate, store, complete). Reported:
requests/s, p50 and p99 latency, and requests/s as a share of hello-world's. The rate limit is
lifted for the run (one token drives all the load). Every loop is bounded by time and count.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELLO = """
import uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/hello")
async def hello() -> dict[str, str]:
    return {"hello": "world"}
uvicorn.run(app, host="127.0.0.1", port={port}, workers=1, access_log=False, log_level="warning")
"""

SEED = """
from datetime import date, timedelta
from ledgerlens.bootstrap import bootstrap
from ledgerlens.core.ledger import Account, Business, Transaction
c = bootstrap()
with c.uow_factory() as uow:
    uow.businesses.add(Business("bench", "Bench Ltd", "GB", "GBP"))
    s = uow.scope("bench")
    s.accounts.add(Account("acc-bench", "bench", "GB29NWBK60161331926819", "GBP"))
    s.transactions.add_new([
        Transaction(f"seed-{i}", "bench", "acc-bench", date(2025, 1, 1) + timedelta(days=i % 400),
                    None, -100 - i, "GBP", f"CARD PAYMENT SHOP {i % 97}",
                    counterparty_name=f"Shop {i % 97}",
                    dedup_key=f"seed-{i}")
        for i in range({rows})
    ])
    # issue 9: a feed of 20 insights behind the insights consent (GET …/insights)
    from datetime import UTC, datetime
    from ledgerlens.core.ledger import ConsentGrant, Purpose
    from ledgerlens.explain.model import Figure, Insight, InsightKind, Severity
    now = datetime.now(UTC)
    s.consents.grant(ConsentGrant("bench", Purpose.INSIGHTS, now, granted_by="bench"))
    s.insights.upsert([
        Insight(f"ins-{k}", "bench", InsightKind.LOW_BALANCE, Severity(1 + k % 4), f"Title {k}",
                f"Message {k}", (Figure("balance", 1000 * k, "GBP"),), (f"seed-{k}",), 0.8,
                "rule:bench", now, date(2099, 1, 1), f"bench-{k}", date(2026, 1, 1))
        for k in range(20)
    ], now)
    uow.commit()
c.dispose()
"""

POST_LUA = """
counter = 0
math.randomseed(os.time())
local run = tostring(math.random(1, 1000000000))
request = function()
  counter = counter + 1
  local id = run .. "-" .. counter
  local body = '{"transactions":[{"account_id":"acc-bench","booking_date":"2026-03-01",'
    .. '"amount":"-1.50","currency":"GBP","description":"COUNTER SALE",'
    .. '"transaction_id":"w' .. id .. '"}]}'
  return wrk.format("POST", "/v1/businesses/bench/transactions",
    {["Content-Type"]="application/json", ["Authorization"]="Bearer TOKEN",
     ["Idempotency-Key"]="bench-key-" .. id}, body)
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, path: str, timeout_s: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not become ready")


def _parse_wrk(out: str) -> dict[str, float]:
    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "errors": float(non2xx.group(1)) if non2xx else 0.0,
    }


def _wrk(
    url: str, seconds: int, connections: int, headers: dict[str, str], script: Path | None
) -> dict[str, float]:
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    if script is not None:
        cmd += ["-s", str(script)]
    out = subprocess.run(
        [*cmd, url], capture_output=True, text=True, timeout=seconds + 30, check=True
    )
    return _parse_wrk(out.stdout)


def _python_load(
    url: str, seconds: int, connections: int, headers: dict[str, str], post: bool
) -> dict[str, float]:
    """Fallback generator: asyncio + httpx in a child process, bounded by time and count."""
    code = f"""
import asyncio, json, time, httpx, uuid
URL, SECONDS, CONC, HEADERS, POST = {url!r}, {seconds}, {connections}, {headers!r}, {post}
lat = []
async def worker(client, deadline):
    while time.perf_counter() < deadline and len(lat) < 200000:
        t = time.perf_counter()
        if POST:
            k = uuid.uuid4().hex
            body = {{"transactions": [{{"account_id": "acc-bench", "booking_date": "2026-03-01",
                     "amount": "-1.50", "currency": "GBP", "transaction_id": "p" + k}}]}}
            key = {{"Idempotency-Key": "bench-" + k}}
            r = await client.post(URL, json=body, headers={{**HEADERS, **key}})
        else:
            r = await client.get(URL, headers=HEADERS)
        lat.append((time.perf_counter() - t) * 1000)
async def main():
    limits = httpx.Limits(max_connections=CONC, max_keepalive_connections=CONC)
    async with httpx.AsyncClient(limits=limits, timeout=5) as client:
        start = time.perf_counter()
        await asyncio.gather(*[worker(client, start + SECONDS) for _ in range(CONC)])
        took = time.perf_counter() - start
    lat.sort()
    p50, p99 = lat[len(lat) // 2], lat[int(len(lat) * 0.99)]
    print(json.dumps({{"rps": len(lat) / took, "p50_ms": p50, "p99_ms": p99, "errors": 0.0}}))
asyncio.run(main())
"""
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    )
    return json.loads(out.stdout)


def run(quick: bool = False) -> dict[str, object]:
    seconds = 3 if quick else 10
    connections = 8
    rows = 5000
    use_wrk = shutil.which("wrk") is not None
    work = Path(tempfile.mkdtemp(prefix="ledgerlens-bench-api-"))
    env = dict(os.environ)
    env.update(
        {
            "LEDGERLENS_DB__URL": f"sqlite:///{work / 'bench.db'}",
            "LEDGERLENS_API__RATE_LIMIT_PER_S": "1000000000",
            "LEDGERLENS_API__RATE_LIMIT_BURST": "1000000000",
            "LEDGERLENS_ENVIRONMENT": "development",
        }
    )
    procs: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(
            [sys.executable, "-c", SEED.replace("{rows}", str(rows))],
            env=env,
            check=True,
            timeout=300,
        )
        token = subprocess.run(
            [
                sys.executable,
                "-m",
                "ledgerlens.jobs",
                "token",
                "--business",
                "bench",
                "--role",
                "owner",
            ],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.strip()
        api_port, hello_port = _free_port(), _free_port()
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "ledgerlens.jobs", "serve", "--port", str(api_port)],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", HELLO.replace("{port}", str(hello_port))],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        _wait_ready(api_port, "/healthz")
        _wait_ready(hello_port, "/hello")
        auth = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{api_port}"
        list_url = f"{base}/v1/businesses/bench/transactions?limit=100"
        post_url = f"{base}/v1/businesses/bench/transactions"
        script = work / "post.lua"
        script.write_text(POST_LUA.replace("TOKEN", token))

        def measure(url: str, headers: dict[str, str], post: bool) -> dict[str, float]:
            if use_wrk:
                return _wrk(url, seconds, connections, headers, script if post else None)
            return _python_load(url, seconds, connections, headers, post)

        measure(f"http://127.0.0.1:{hello_port}/hello", {}, False)  # warm-up both servers briefly
        hello = measure(f"http://127.0.0.1:{hello_port}/hello", {}, False)
        listed = measure(list_url, auth, False)
        posted = measure(post_url, auth, True)
        feed = measure(f"{base}/v1/businesses/bench/insights", auth, False)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(work, ignore_errors=True)
    out: dict[str, object] = {
        "load_generator": "wrk" if use_wrk else "httpx-asyncio",
        "connections": connections,
        "seconds_per_run": seconds,
        "stored_transactions": rows,
    }
    runs = (("hello", hello), ("get_transactions", listed), ("post_transaction", posted),
            ("get_insights", feed))  # fmt: skip
    for name, m in runs:
        out[f"{name}_rps"] = round(m["rps"], 1)
        out[f"{name}_p50_ms"] = round(m["p50_ms"], 2)
        out[f"{name}_p99_ms"] = round(m["p99_ms"], 2)
        out[f"{name}_non2xx"] = int(m["errors"])
    out["get_transactions_vs_hello"] = round(listed["rps"] / hello["rps"], 3)
    out["post_transaction_vs_hello"] = round(posted["rps"] / hello["rps"], 3)
    out["get_insights_vs_hello"] = round(feed["rps"] / hello["rps"], 3)
    return out


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
