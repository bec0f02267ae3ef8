"""Drive ``wrk`` (Debian's) with scans that are all new: each request carries a tracking number
no earlier request used, so every request is a real intake, never a replay.

The Lua script builds the body per request: ``api`` one JSON scan, ``batch`` a JSON batch,
``counter`` the clerk's htmx form POST. Numbers are ``SF`` + 13 digits: the run's digit, the
wrk thread's two and a ten-digit counter of that thread.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SCRIPT = r"""
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  run = tonumber(args[1])
  mode = args[2]
  points = {}
  for p in string.gmatch(args[3], "%d+") do table.insert(points, p) end
  batch = tonumber(args[4])
  phones = tonumber(args[5])
  path = args[6]
  count = tonumber(args[7] or "0")
end

local function scan()
  count = count + 1
  local number = string.format("SF%d%02d%010d", run, tid, count)
  local phone = string.format("138%08d", (count * 7 + tid * 131) % phones)
  return number, phone
end

function request()
  if mode == "batch" then
    -- Each wrk thread (one connection) scans at its own point, like a station of a district.
    local point = points[((tid - 1) % #points) + 1]
    local items = {}
    for i = 1, batch do
      local number, phone = scan()
      items[i] = string.format('{"tracking_number":"%s","phone":"%s"}', number, phone)
    end
    local body = string.format('{"point_id":%s,"scans":[%s]}', point, table.concat(items, ","))
    return wrk.format("POST", path, nil, body)
  end
  local number, phone = scan()
  local point = points[((count + tid) % #points) + 1]
  if mode == "counter" then
    local body = "number=" .. number .. "&phone=" .. phone
    return wrk.format("POST", string.format(path, point), nil, body)
  end
  local body = string.format('{"point_id":%s,"tracking_number":"%s","phone":"%s"}',
    point, number, phone)
  return wrk.format("POST", path, nil, body)
end
"""


@dataclass
class Result:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    requests: int
    non_2xx: int
    errors: str


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * _UNITS[unit]


def parse(output: str) -> Result:
    def find(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    errors = find(r"Socket errors: ([^\n]+)", "")
    return Result(
        requests_per_s=float(find(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_ms(find(r"\s50%\s+([\d.]+(?:us|ms|s))", "0ms")),
        p99_ms=_ms(find(r"\s99%\s+([\d.]+(?:us|ms|s))", "0ms")),
        requests=int(find(r"(\d+) requests in")),
        non_2xx=int(find(r"Non-2xx or 3xx responses: (\d+)")),
        errors=errors,
    )


def run(
    url: str,
    *,
    mode: str,
    path: str,
    points: list[int],
    run_digit: int,
    connections: int,
    threads: int,
    seconds: int,
    headers: dict[str, str],
    batch: int = 1,
    phones: int = 2000,
    start: int = 0,
) -> Result:
    """``start``: where each wrk thread's counter of numbers starts (a later round of the same
    run digit starts past an earlier one's numbers, so its scans are new too)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(SCRIPT)
    script = Path(f.name)
    try:
        cmd = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(script),
        ]
        for name, value in headers.items():
            cmd += ["-H", f"{name}: {value}"]
        cmd += [url, "--", str(run_digit), mode, ",".join(map(str, points)), str(batch)]
        cmd += [str(phones), path, str(start)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    finally:
        script.unlink()
    return parse(out)
