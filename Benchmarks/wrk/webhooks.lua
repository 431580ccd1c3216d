-- wrk script: signed POST /webhooks/test deliveries, read from a file written by
-- Benchmarks/wrk/presign_events.py.
--
--   wrk -t2 -c64 -d20s --latency -s Benchmarks/wrk/webhooks.lua http://127.0.0.1:PORT -- events.tsv [RATE [THREADS]]
--
-- Each line of the file is `<Stripe-Signature>\t<body>`, every body a distinct event. wrk does not tell a
-- script its thread count, so pass it (the same as -t) after the rate:
--   THREADS: the file is split into that many contiguous slices, one per thread, so no two threads send the
--            same event. Default 1, which means every thread starts at the top of the file (duplicates!).
--   RATE:    when above 0, the run is paced to RATE requests/s in all: each thread keeps a fixed schedule
--            of one request every THREADS*1000/RATE ms (monotonic clock, through LuaJIT's ffi), and
--            delay() holds each connection's next request until the next free slot of its thread. A slot
--            missed because every connection was busy is not made up, so a server slower than RATE shows
--            as a lower rps. Plain wrk, not wrk2: latencies are per request, without coordinated-omission
--            correction. 0 or absent: as fast as the connections go.
-- A thread that reaches the end of its slice starts it again; those are duplicate deliveries, counted in
-- `wrapped` (threads that wrapped) and `duplicates` (200 answers that said "duplicate":true).
--
-- done() prints one machine-readable line:
--   RESULT requests=… duration_s=… rps=… p50_ms=… p90_ms=… p99_ms=… max_ms=… non2xx=… errors=… …
--          ok2xx=… duplicates=… wrapped=…
-- Unpaced runs may set WEBHOOK_NO_DELAY=1 in wrk's environment (see delay() below).
-- non2xx is wrk's status-error counter (summary.errors.status: status 400 or more); ok2xx counts 2xx answers
-- seen by response(); errors adds up socket errors (connect, read, write, timeout).

local requests = {}
local index = 0
local last = 0
local interval_ms = 0
local next_slot_ms = 0
local now_ms = nil
-- Globals, not locals: done() reads them from each thread's state with thread:get().
ok2xx = 0
duplicates = 0
wrapped = 0

-- setup() runs in the main Lua state once per thread, before that thread's init().
local threads = {}
function setup(thread)
    thread:set("thread_id", #threads)
    threads[#threads + 1] = thread
end

function init(args)
    local path = args[1] or os.getenv("WEBHOOK_REQUESTS")
    if not path then
        error("webhooks.lua: pass the request file after --, or set WEBHOOK_REQUESTS")
    end
    local rate = tonumber(args[2] or "0") or 0
    local thread_count = tonumber(args[3] or "1") or 1
    if rate > 0 then
        if not delay then
            error("webhooks.lua: a RATE needs delay(); unset WEBHOOK_NO_DELAY")
        end
        local ffi = require("ffi")
        ffi.cdef[[
            typedef struct { long tv_sec; long tv_nsec; } webhooks_bench_timespec;
            int clock_gettime(int clock_id, webhooks_bench_timespec *tp);
        ]]
        local ts = ffi.new("webhooks_bench_timespec")
        now_ms = function()
            ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
            return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
        end
        interval_ms = thread_count * 1000 / rate
    end
    local id = thread_id or 0

    -- Two passes, so a thread keeps only its own slice of a file that may be hundreds of MB.
    local line_count = 0
    for _ in io.lines(path) do
        line_count = line_count + 1
    end
    local per_thread = math.floor(line_count / thread_count)
    if per_thread < 1 then
        error("webhooks.lua: " .. line_count .. " lines cannot be split over " .. thread_count .. " threads")
    end
    local first = id * per_thread + 1
    local final = first + per_thread - 1
    local headers = { ["Content-Type"] = "application/json" }
    local n = 0
    for line in io.lines(path) do
        n = n + 1
        if n > final then
            break
        end
        if n >= first then
            local tab = line:find("\t", 1, true)
            if tab then
                headers["Stripe-Signature"] = line:sub(1, tab - 1)
                requests[#requests + 1] = wrk.format("POST", "/webhooks/test", headers, line:sub(tab + 1))
            end
        end
    end
    if #requests == 0 then
        error("webhooks.lua: no requests in " .. path)
    end
    last = #requests
end

function request()
    index = index + 1
    if index > last then
        index = 1
        wrapped = 1
    end
    return requests[index]
end

-- wrk decides once, from the main Lua state (which never sees the arguments), whether delay() exists;
-- when it does, every request waits on a timer, even a 0 ms one. WEBHOOK_NO_DELAY=1 leaves delay()
-- undefined for unpaced runs, so they carry no timer overhead.
if os.getenv("WEBHOOK_NO_DELAY") ~= "1" then
    function delay()
        if interval_ms <= 0 then
            return 0
        end
        local now = now_ms()
        local slot = next_slot_ms
        if slot < now then
            slot = now -- behind schedule: go now, and do not burst to catch up
        end
        next_slot_ms = slot + interval_ms
        return slot - now
    end
end

function response(status, _, body)
    if status >= 200 and status < 300 then
        ok2xx = ok2xx + 1
        if body and body:find('"duplicate":true', 1, true) then
            duplicates = duplicates + 1
        end
    end
end

function done(summary, latency, _)
    local seconds = summary.duration / 1e6
    local e = summary.errors
    local total_ok, total_dup, total_wrapped = 0, 0, 0
    for _, thread in ipairs(threads) do
        total_ok = total_ok + (thread:get("ok2xx") or 0)
        total_dup = total_dup + (thread:get("duplicates") or 0)
        total_wrapped = total_wrapped + (thread:get("wrapped") or 0)
    end
    io.write(string.format(
        "RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f "
            .. "non2xx=%d errors=%d connect=%d read=%d write=%d timeout=%d ok2xx=%d duplicates=%d wrapped=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
        latency.max / 1000,
        e.status, e.connect + e.read + e.write + e.timeout, e.connect, e.read, e.write, e.timeout,
        total_ok, total_dup, total_wrapped))
end
