-- wrk script: signed POST /api/whoami requests, read from a file written by Benchmarks/wrk/presign.py.
--
--   wrk -t2 -c32 -d20s --latency -s Benchmarks/wrk/whoami.lua http://127.0.0.1:PORT -- requests.tsv
--
-- Each line of the file is `<Stripe-Signature>\t<body>`. Each wrk thread loads the file once in init()
-- and formats every request up front, so request() only returns a prepared string: the client spends
-- as little CPU as possible on a machine it shares with the server.
--
-- done() prints one machine-readable line:
--   RESULT requests=… duration_s=… rps=… p50_ms=… p99_ms=… non2xx=… errors=…
-- non2xx is wrk's status-error counter (summary.errors.status), which counts responses with a status
-- of 400 or more; errors adds up socket errors (connect, read, write, timeout).

local requests = {}
local index = 0

-- setup() runs in the main Lua state once per thread, before that thread's init(): give each thread
-- a distinct id so the threads start at different places in the file.
local thread_count = 0
function setup(thread)
    thread:set("thread_id", thread_count)
    thread_count = thread_count + 1
end

function init(args)
    local path = args[1] or os.getenv("WHOAMI_REQUESTS")
    if not path then
        error("whoami.lua: pass the request file after --, or set WHOAMI_REQUESTS")
    end
    local headers = { ["Content-Type"] = "application/json" }
    for line in io.lines(path) do
        local tab = line:find("\t", 1, true)
        if tab then
            headers["Stripe-Signature"] = line:sub(1, tab - 1)
            requests[#requests + 1] = wrk.format("POST", "/api/whoami", headers, line:sub(tab + 1))
        end
    end
    if #requests == 0 then
        error("whoami.lua: no requests in " .. path)
    end
    -- thread_id is set by setup(); spread threads over the file.
    index = ((thread_id or 0) * 7919) % #requests
end

function request()
    index = index + 1
    if index > #requests then
        index = 1
    end
    return requests[index]
end

function done(summary, latency, _)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    io.write(string.format(
        "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
            .. "non2xx=%d errors=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000,
        e.status, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout))
end
